"""Restock's own domain data, as the ERP connector delivers it and the engine reads it.

Units: quantities are cartons, dates are calendar dates in the customer's time zone.
These models carry no ERP vocabulary; `erp/` maps the ERP's payloads onto them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_CARTONS = 1_000_000_000
"""No single figure in cartons (stock, shipment, order line) is larger: beyond it the data
is wrong, and arrays of such sums would lose precision."""


class DomainModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductStatus(StrEnum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


class CreditStatus(StrEnum):
    OK = "ok"
    HOLD = "hold"


class OrderStatus(StrEnum):
    APPROVED = "approved"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


PIPELINE_STATUSES = frozenset({OrderStatus.APPROVED, OrderStatus.IN_TRANSIT})


class Contact(DomainModel):
    name: str
    email: str
    role: str = "buyer"


class CustomerProfile(DomainModel):
    code: str = Field(description="The customer's code in the ERP")
    name: str
    contacts: list[Contact] = Field(default_factory=list)
    credit_status: CreditStatus = CreditStatus.OK
    lead_time_weeks: int = Field(ge=0, description="Weeks from order submission to delivery")
    container_capacity_cartons: int = Field(default=90_000, gt=0)
    timezone: str = "UTC"
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="The account's currency (ISO 4217)"
    )
    credit_limit: Decimal | None = Field(
        default=None, ge=0, description="Most the customer may owe, open orders included"
    )
    open_balance: Decimal | None = Field(
        default=None, description="What the customer owes now: open invoices and orders"
    )
    payment_terms: str | None = Field(default=None, max_length=60, description="e.g. NET30")

    @property
    def available_credit(self) -> Decimal | None:
        """Credit left to order with; None when the ERP states no limit."""
        if self.credit_limit is None:
            return None
        return self.credit_limit - (self.open_balance or Decimal(0))


class Product(DomainModel):
    code: str
    name: str
    pack_size: int = Field(
        ge=1, le=MAX_CARTONS, description="Order quantities are multiples of this, in cartons"
    )
    moq: int = Field(
        default=0, ge=0, le=MAX_CARTONS, description="Minimum order quantity, in cartons"
    )
    status: ProductStatus = ProductStatus.ACTIVE
    carton_weight_kg: float | None = Field(default=None, ge=0, le=1_000_000)
    carton_volume_m3: float | None = Field(default=None, ge=0, le=10_000)
    stock_on_hand: int | None = Field(
        default=None,
        ge=-MAX_CARTONS,
        le=MAX_CARTONS,
        description="Cartons at the customer; None when the ERP did not say",
    )


DayNumber = Annotated[int, Field(ge=1, le=date.max.toordinal())]
"""A day as `date.toordinal()` gives it."""
Cartons = Annotated[int, Field(ge=0, le=MAX_CARTONS)]
StockCount = Annotated[int | None, Field(ge=-MAX_CARTONS, le=MAX_CARTONS)]

ShipmentRow = tuple[DayNumber, Cartons]
"""A `Shipment` of the product it is filed under: (ship day, cartons)."""
ReportRow = tuple[DayNumber, Cartons, StockCount]
"""A `ConsumptionReport` of the product it is filed under: (first day of the week, cartons
consumed, stock at the week's end or None)."""


class Shipment(DomainModel):
    """Cartons shipped to the customer on a day: the fallback history (see `ConsumptionReport`
    and `StockSnapshot` for the better ones)."""

    product_code: str
    ship_date: date
    quantity: int = Field(ge=0, le=MAX_CARTONS)


class PriceRow(DomainModel):
    """One line of the customer's price list: the price per carton of a product in a
    currency from a day (to a day, inclusive), from `min_quantity` cartons on an order line
    (a quantity break; 0 or 1: every quantity)."""

    product_code: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    unit_price: Decimal = Field(gt=0, lt=Decimal("1e9"), description="Per carton")
    valid_from: date
    valid_to: date | None = Field(default=None, description="Last day it applies; none: open")
    min_quantity: int = Field(default=0, ge=0, le=MAX_CARTONS)


class ConsumptionReport(DomainModel):
    """The ERP's product activity for one week (EDI 852 style): cartons the customer
    consumed (sold or used) and, optionally, its stock at the end of the week.

    A week the ERP reports for any product counts as reported for every product: a product
    missing from it consumed nothing that week.
    """

    product_code: str
    week_start: date = Field(description="First of the 7 days reported")
    quantity: int = Field(ge=0, le=MAX_CARTONS, description="Cartons consumed in the week")
    stock_on_hand: int | None = Field(default=None, ge=-MAX_CARTONS, le=MAX_CARTONS)


class StockSnapshot(DomainModel):
    """Stock on hand as Restock read it at a sync. Two snapshots and the deliveries between
    them give the consumption in between: stock before + received - stock after.

    `taken_on` D means the stock at the start of day D: deliveries dated D come after it.
    """

    product_code: str
    taken_on: date
    stock_on_hand: int = Field(ge=-MAX_CARTONS, le=MAX_CARTONS)


class ShipmentCorrection(DomainModel):
    """Cartons of one of our order lines beyond its demand-driven need (rounding to packs
    and MOQ, pull-forward to fill a container), so that the shipment history does not read
    them as demand of the week they shipped.

    The engine moves `excess_cartons` from the product's first shipment on or after
    `ordered_on` to the weeks they cover (`excess_cartons / weekly_forecast` weeks from the
    shipment on): they are consumed then, not when they shipped.
    """

    product_code: str
    ordered_on: date
    excess_cartons: int = Field(ge=0, le=MAX_CARTONS)
    weekly_forecast: float = Field(ge=0, le=MAX_CARTONS, description="Forecast when ordered")


class OrderLine(DomainModel):
    product_code: str
    quantity: int = Field(gt=0, le=MAX_CARTONS)


class ErpOrder(DomainModel):
    order_number: str
    status: OrderStatus
    ordered_on: date
    eta: date | None = None
    delivered_on: date | None = None
    reference: str | None = Field(
        default=None, description="Our reference on the order (the idempotency key we sent)"
    )
    lines: list[OrderLine]

    @property
    def in_pipeline(self) -> bool:
        return self.status in PIPELINE_STATUSES
