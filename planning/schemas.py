"""The engine's one model in (`PlanInput`) and one model out (`Recommendation`).

Both are plain pydantic models, JSON round-trippable, so the workflow can pass them
through Temporal and the API can store and serve them as they are.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from planning.models import (
    ConsumptionReport,
    ErpOrder,
    PriceRow,
    Product,
    ReportRow,
    Shipment,
    ShipmentCorrection,
    ShipmentRow,
    StockSnapshot,
)
from planning.settings import PlanSettings

M = TypeVar("M", bound=BaseModel)
# BaseModel's slots, set directly (what `object.__setattr__` ends up calling, minus the lookup).
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def construct(cls: type[M], values: dict[str, Any], fields_set: Set[str] | None = None) -> M:
    """What `cls.model_construct(**values)` builds, without its per-field Python loop.

    For output the engine computed itself, already of the field types: validating ~30,000
    nested models (or `model_construct`, slower still) is a large share of a 10,000-product
    plan. Also for the plan input's stock counts read back from the store, validated when the
    sync stored them (`services.consumption`).

    `values` must hold every field in declaration order and becomes the instance's
    `__dict__`; `fields_set` defaults to all of them. The models built this way have no
    validators or `model_post_init` to skip (tests/planning/test_golden.py checks).
    """
    model = _new(cls)
    _set_dict(model, values)
    _set_fields_set(model, set(values) if fields_set is None else set(fields_set))
    _set_extra(model, None)
    _set_private(model, None)
    return model


class PlanInput(BaseModel):
    """Everything the engine reads for one customer as of one date."""

    model_config = ConfigDict(extra="forbid")

    as_of: date = Field(description="Planning date; history is read up to the day before")
    settings: PlanSettings = Field(default_factory=PlanSettings)
    products: list[Product]
    shipments: list[Shipment] = Field(default_factory=list)
    pipeline: list[ErpOrder] = Field(
        default_factory=list,
        description="Orders from the ERP; only approved and in-transit ones count",
    )
    consumption: list[ConsumptionReport] = Field(
        default_factory=list,
        description="The ERP's weekly consumption reports (EDI 852 style), when it has them",
    )
    shipments_by_product: dict[str, list[ShipmentRow]] = Field(
        default_factory=dict,
        description="More shipments, as rows per product code: read as `shipments` are, "
        "without a model per row (a 4,000-product customer has some 50,000)",
    )
    consumption_by_product: dict[str, list[ReportRow]] = Field(
        default_factory=dict,
        description="More consumption reports, as rows per product code: read as "
        "`consumption` is (a 4,000-product customer has some 150,000)",
    )
    snapshots: list[StockSnapshot] = Field(
        default_factory=list,
        description="Stock on hand at each earlier sync; with the deliveries in "
        "order_history they give consumption between syncs",
    )
    order_history: list[ErpOrder] = Field(
        default_factory=list,
        description="The customer's orders with delivery dates: delivered ones give the "
        "lead time (ordered_on -> delivered_on) and the receipts between snapshots",
    )
    cancelled_orders: list[ErpOrder] = Field(
        default_factory=list,
        description="The customer's cancelled orders: a product never stocked whose last "
        "order was cancelled gets that first lot again",
    )
    shipment_corrections: list[ShipmentCorrection] = Field(
        default_factory=list,
        description="Per approved line of ours, the cartons beyond its need (rounding, "
        "pull-forward), kept out of the shipment history",
    )
    prices: list[PriceRow] = Field(
        default_factory=list, description="The customer's price list, to value the order"
    )
    currency: str | None = Field(default=None, description="The account's currency")
    snoozed: dict[str, date] = Field(
        default_factory=dict,
        description="Product code -> the day the buyer's snooze ends: not ordered before it",
    )

    @field_validator("as_of")
    @classmethod
    def _plausible_date(cls, value: date) -> date:
        if not date(1970, 1, 1) <= value <= date(2199, 12, 31):
            raise ValueError(f"{value.isoformat()} is not a plausible planning date")
        return value

    @field_validator("products")
    @classmethod
    def _unique_codes(cls, products: list[Product]) -> list[Product]:
        seen: set[str] = set()
        for product in products:
            if product.code in seen:
                raise ValueError(f"product code {product.code!r} appears more than once")
            seen.add(product.code)
        return products


class DemandPattern(StrEnum):
    """Syntetos-Boylan demand classes, plus the cases with too little data to classify."""

    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    SHORT_HISTORY = "short_history"
    NO_HISTORY = "no_history"


class HistorySource(StrEnum):
    """Where a product's history came from, best first (`planning.sources`)."""

    ERP_ACTIVITY = "erp_activity"  # the ERP's consumption reports (EDI 852)
    SNAPSHOTS = "snapshots"  # stock counts at each sync + deliveries in between
    SHIPMENTS = "shipments"  # shipments, corrected for our own rounding and pull-forward


class PlanStatus(StrEnum):
    """What the portal shows per product.

    at_risk: runs out or breaks safety stock before an order placed today could arrive.
    reorder: needs an order this cycle, but is not urgent.
    healthy: enough stock and pipeline; nothing to order.
    no_history: no shipments to forecast from; nothing is ordered automatically.
    stock_unknown: the ERP gave no stock and settings say skip such products.
    discontinued: never ordered.
    snoozed: the buyer put it off for some reviews; not ordered until the snooze ends.
    """

    AT_RISK = "at_risk"
    REORDER = "reorder"
    HEALTHY = "healthy"
    NO_HISTORY = "no_history"
    STOCK_UNKNOWN = "stock_unknown"
    DISCONTINUED = "discontinued"
    SNOOZED = "snoozed"


class Explanation(BaseModel):
    """Why a line has the quantity it has, in numbers and in one readable paragraph."""

    forecast_weekly: float = Field(description="Forecast cartons per week over the planning window")
    method: str
    pattern: DemandPattern
    history_weeks: int
    stock_on_hand: int | None = Field(description="As the ERP reported it (None: not reported)")
    stock_used: int = Field(description="The stock the plan started from after data rules")
    pipeline: int = Field(description="Approved and in-transit cartons not yet delivered")
    cover_now_weeks: float | None = Field(description="(stock + pipeline) / weekly forecast")
    stock_at_arrival: int = Field(description="Projected stock when an order placed today arrives")
    cover_at_arrival_weeks: float | None
    run_out_date: date | None = Field(description="Projected run-out; None if not within horizon")
    arrival_date: date
    target_weeks: float
    target_cartons: int
    safety_stock_cartons: int
    safety_stock_rule: str
    need_cartons: int = Field(
        description="target + safety - stock at arrival in whole cartons, before packs and MOQ"
    )
    rounding: str | None = Field(description="How the need became the ordered quantity")
    pull_forward_cartons: int = 0
    cover_after_order_weeks: float | None = None
    history_source: HistorySource = Field(
        default=HistorySource.SHIPMENTS, description="Source of the latest weeks of history"
    )
    history_source_weeks: int | None = Field(
        default=None, description="How many of the latest weeks come from that source"
    )
    lead_time_weeks: float | None = Field(
        default=None, description="The lead time planned with (measured or from settings)"
    )
    warnings: list[str] = Field(default_factory=list)
    text: str = ""


class Line(BaseModel):
    """One product to order."""

    product_code: str
    name: str
    quantity: int
    packs: int
    pack_size: int
    moq: int
    urgent: bool
    urgency_reason: str | None = None
    containers: list[int] = Field(default_factory=list, description="Container indexes it is in")
    carton_weight_kg: float | None = None
    carton_volume_m3: float | None = None
    edited: bool = False
    explanation: Explanation | None = None
    value: Decimal | None = Field(
        default=None, description="Its cartons at the prices that apply, over its containers"
    )


class ContainerLine(BaseModel):
    product_code: str
    quantity: int
    urgent: bool = False
    unit_price: Decimal | None = Field(default=None, description="Per carton; None: no price")
    value: Decimal | None = Field(default=None, description="Rounded to the currency")


class Container(BaseModel):
    index: int = Field(description="1-based; urgent containers come first")
    lines: list[ContainerLine]
    cartons: int
    fill_pct: float = Field(description="Fill of the binding limit (cartons, weight or volume)")
    cartons_fill_pct: float
    weight_kg: float | None = None
    weight_fill_pct: float | None = None
    volume_m3: float | None = None
    volume_fill_pct: float | None = None
    urgent: bool
    value: Decimal | None = Field(
        default=None, description="Sum of its priced lines; None when the ERP has no prices"
    )
    unpriced_lines: int = Field(default=0, description="Lines without a price (not in value)")


class ContainerNote(BaseModel):
    """A container shipped below `settings.min_fill_pct`: why, and what it costs in fill."""

    index: int = Field(description="The container's index")
    fill_pct: float
    urgent: bool
    note: str


class ProductPlan(BaseModel):
    """Stock health of one product, for every product (ordered or not)."""

    product_code: str
    name: str
    status: PlanStatus
    pattern: DemandPattern
    method: str
    weekly_forecast: float
    forecast: list[float] = Field(description="Forecast cartons for each of the next 13 weeks")
    stock_on_hand: int | None
    pipeline: int
    weeks_of_cover: float | None = Field(description="None when consumption is zero (unbounded)")
    cover_at_arrival_weeks: float | None
    run_out_date: date | None
    projected_stock: list[int] = Field(description="Projected stock at the start of each week")
    ordered_quantity: int = 0
    urgent: bool = False
    history_source: HistorySource = HistorySource.SHIPMENTS
    note: str | None = Field(
        default=None, description="Why a product that needs stock is not ordered, or data fixes"
    )


class Totals(BaseModel):
    products: int
    active_products: int
    ordered_products: int
    urgent_products: int
    at_risk_products: int
    cartons: int
    containers: int
    urgent_containers: int
    average_fill_pct: float | None
    pulled_forward_cartons: int
    dropped_cartons: int = Field(description="Cartons of a dropped, under-filled last container")
    below_min_fill_containers: int = 0
    value: Decimal | None = Field(default=None, description="Every container's value")
    currency: str | None = None
    unpriced_lines: int = 0


class LeadTimeUsed(BaseModel):
    """The lead time the plan used: measured from deliveries, or the settings' figure."""

    weeks: float
    sd_weeks: float = Field(description="Spread (standard deviation) of the measured lead time")
    orders: int = Field(description="Deliveries measured; 0 when the settings' figure is used")
    source: str = Field(description="measured or settings")


class Recommendation(BaseModel):
    as_of: date
    summary: str
    containers: list[Container]
    lines: list[Line]
    products: list[ProductPlan]
    totals: Totals
    warnings: list[str] = Field(default_factory=list)
    settings: PlanSettings
    lead_time: LeadTimeUsed | None = None
    container_notes: list[ContainerNote] = Field(
        default_factory=list, description="Containers shipped below the minimum fill"
    )

    @property
    def is_empty(self) -> bool:
        return not self.lines
