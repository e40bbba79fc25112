"""The connector's own types: submissions, receipts, the synced snapshot and its data quality."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from planning.models import (
    ConsumptionReport,
    CustomerProfile,
    ErpOrder,
    OrderLine,
    OrderStatus,
    PriceRow,
    Product,
    Shipment,
)


class ErpModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderSubmission(ErpModel):
    lines: list[OrderLine] = Field(min_length=1)
    reference: str | None = Field(
        default=None, max_length=64, description="Our reference; defaults to the idempotency key"
    )


class SubmissionReceipt(ErpModel):
    order_number: str
    status: OrderStatus
    ordered_on: date | None = None
    eta: date | None = None
    idempotency_key: str
    replayed: bool = Field(description="True when the ERP already had this idempotency key")


class ErpOrderEvent(ErpModel):
    """An order event the ERP pushed: the order's state after it (docs/erp-api.md)."""

    event_id: str = Field(min_length=1, max_length=120)
    event_type: str = Field(description="shipped | eta_changed | delivered | cancelled")
    customer_code: str = Field(min_length=1)
    order_number: str = Field(min_length=1, max_length=64)
    status: OrderStatus
    eta: date | None = None
    delivered_on: date | None = None


class IssueReason(StrEnum):
    MISSING_FIELD = "missing_field"
    BAD_VALUE = "bad_value"
    NEGATIVE_STOCK = "negative_stock"
    NEGATIVE_QUANTITY = "negative_quantity"
    DUPLICATE_ROW = "duplicate_row"
    INCONSISTENT_PACK_SIZE = "inconsistent_pack_size"
    UNKNOWN_ITEM = "unknown_item"
    FUTURE_DATE = "future_date"
    HISTORY_GAP = "history_gap"


class IssueAction(StrEnum):
    DROPPED = "dropped"
    CORRECTED = "corrected"
    FLAGGED = "flagged"


class DataIssue(ErpModel):
    reason: IssueReason
    entity: str = Field(
        description="customer, product, shipment, order, order_line, activity, price"
    )
    key: str = Field(
        description="Which row: item code, delivery note/line, order number, item/week"
    )
    field: str | None = Field(default=None, description="Our field name, when one is to blame")
    detail: str
    action: IssueAction


class HistoryGap(ErpModel):
    """A stretch with no shipments at all, much longer than the customer's usual rhythm."""

    after: date
    before: date
    days: int


class DataQualityReport(ErpModel):
    counts: dict[IssueReason, int] = Field(default_factory=dict)
    rows_received: dict[str, int] = Field(default_factory=dict)
    rows_kept: dict[str, int] = Field(default_factory=dict)
    examples: list[DataIssue] = Field(
        default_factory=list, description="Up to a few examples per reason"
    )
    gaps: list[HistoryGap] = Field(default_factory=list)

    @property
    def issue_count(self) -> int:
        return sum(self.counts.values())

    @property
    def clean(self) -> bool:
        return not self.counts


class ErpSnapshot(ErpModel):
    """Everything a reorder cycle needs from the ERP about one customer, validated."""

    customer_code: str
    profile: CustomerProfile
    products: list[Product]
    shipments: list[Shipment]
    orders: list[ErpOrder] = Field(description="Pipeline orders plus recent history")
    consumption: list[ConsumptionReport] = Field(
        default_factory=list,
        description="The ERP's weekly product activity (EDI 852 style) for complete weeks "
        "from `consumption_since`, oldest week first; a week with any row is reported for "
        "every product (a product missing from it consumed nothing that week)",
    )
    consumption_reported: bool = Field(
        default=False,
        description="True when the ERP reports product activity at all (the mapping has the "
        "activity endpoint), even if no row came: tells 'no 852' from 'nothing consumed'",
    )
    consumption_since: date | None = Field(
        default=None, description="First week start asked for; None when not reported"
    )
    prices: list[PriceRow] = Field(
        default_factory=list, description="The customer's price list, as the ERP serves it"
    )
    prices_reported: bool = Field(
        default=False,
        description="True when the ERP serves prices at all (the mapping has the prices "
        "endpoint): tells 'no price list' from 'an empty one'",
    )
    data_quality: DataQualityReport
    synced_at: datetime
    erp_as_of: date = Field(description="The ERP's business date when the sync ran")

    @property
    def pipeline(self) -> list[ErpOrder]:
        return [o for o in self.orders if o.in_pipeline]
