from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, computed_field
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from planning.models import PriceRow
from services.prices import rows_of as price_rows
from services.product_detail import open_arrivals, outlook
from services.risk import LABELS, Risk, cover_weeks
from services.snoozes import snooze_of
from services.views.page import Page
from store import customer_settings as settings_repo
from store import orders as orders_repo
from store import recommendations as recommendations_repo
from store import snapshots
from store.pagination import PageRequest
from store.snapshots import ProductSort


class ProductOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "P-00017",
                    "name": "Organic Coffee Beans 1 kg",
                    "pack_size": 12,
                    "moq": 120,
                    "product_status": "active",
                    "stock_on_hand": 840,
                    "weekly_forecast": 310.5,
                    "forecast": [310.5, 310.5, 312.0],
                    "pipeline": 0,
                    "weeks_of_cover": 2.7,
                    "run_out_date": "2026-12-04",
                    "status": "at_risk",
                    "urgent": True,
                    "ordered_quantity": 3720,
                    "pattern": "smooth",
                    "method": "ses",
                    "history_source": "snapshots",
                    "carton_weight_kg": 12.4,
                    "carton_volume_m3": 0.03,
                }
            ]
        },
    )

    code: str
    name: str = Field(description="As the ERP has it; returned verbatim as a JSON string")
    pack_size: int
    moq: int
    product_status: str = Field(description="active or discontinued, from the ERP")
    stock_on_hand: int | None = Field(description="Cartons; null when the ERP did not report it")
    weekly_forecast: float | None
    forecast: list[float] = Field(description="Forecast cartons for each of the next weeks")
    pipeline: int = Field(description="Cartons approved or in transit")
    weeks_of_cover: float | None = Field(description="null when consumption is zero (unbounded)")
    run_out_date: date | None
    status: str = Field(
        validation_alias="plan_status",
        description="at_risk, reorder, healthy, no_history, discontinued, snoozed (unplanned "
        "before the first recommendation)",
    )
    urgent: bool
    ordered_quantity: int = Field(description="Cartons in the current recommendation")
    pattern: str | None
    method: str | None
    history_source: str | None = Field(
        default=None,
        description="What its forecast read: erp_activity (the ERP's consumption reports), "
        "snapshots (stock counts at each sync and the deliveries between) or shipments",
    )
    carton_weight_kg: float | None
    carton_volume_m3: float | None
    risk: str | None = Field(
        default=None,
        description="services.risk.Risk, the one risk vocabulary (null: not planned yet)",
    )

    @computed_field(description="In words, as every page says it")  # type: ignore[prop-decorator]
    @property
    def risk_label(self) -> str | None:
        return None if self.risk is None else LABELS[Risk(self.risk)]

    @computed_field(description="Stock on hand / weekly forecast (null: nothing sells)")  # type: ignore[prop-decorator]
    @property
    def on_hand_cover_weeks(self) -> float | None:
        return cover_weeks(self.stock_on_hand, self.weekly_forecast)

    @computed_field(  # type: ignore[prop-decorator]
        description="(Stock on hand + open orders) / weekly forecast (null: nothing sells)"
    )
    @property
    def cover_with_orders_weeks(self) -> float | None:
        if self.stock_on_hand is None:
            return None
        return cover_weeks(max(self.stock_on_hand, 0) + self.pipeline, self.weekly_forecast)


class WeekCartons(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    week_start: date = Field(
        description="First day of the week; weeks are counted back from the snapshot date, "
        "as the planner counts them"
    )
    cartons: int


class PriceOut(BaseModel):
    min_quantity: int = Field(description="Cartons in one container from which it applies")
    unit_price: Decimal
    currency: str
    valid_from: date
    valid_to: date | None


class ProductDetail(ProductOut):
    """One product with its past shipments and its projected stock against the target."""

    weekly_shipments: list[WeekCartons] = Field(description="The last 52 weeks, oldest first")
    projected_stock: list[WeekCartons] = Field(
        description="Stock at the start of each forecast week: on hand + pipeline - forecast, "
        "floored at zero"
    )
    target_weeks: float = Field(description="The customer's target stock, in weeks of cover")
    next_arrival: date | None = Field(
        default=None, description="Earliest ETA of an open order of the product"
    )
    safety_stock_cartons: int | None = Field(
        default=None,
        description="Safety stock of the product's line in the latest recommendation (null: "
        "not ordered in it)",
    )
    arrivals: list[ArrivalOut] = Field(
        default_factory=list,
        description="Open orders of the product on the day they are expected (ETA, else one "
        "lead time after ordering), booked in that week of the projection",
    )
    target_cartons: int | None = Field(description="target_weeks x weekly forecast")
    prices: list[PriceOut] = Field(
        default_factory=list,
        description="The price list's rows valid today or later, by quantity break (per "
        "carton, per container: each container is one ERP order)",
    )
    ordered_value: Decimal | None = Field(
        default=None,
        description="What the recommended cartons are worth: the product's line value in the "
        "current recommendation (null: not ordered, or no price)",
    )
    ordered_value_currency: str | None = Field(
        default=None, description="The current recommendation's currency (ISO 4217)"
    )
    snoozed_until: date | None = Field(
        default=None,
        description="The buyer put it off: plans made before this day do not order it",
    )


class ArrivalOut(BaseModel):
    on: date
    cartons: int
    order: str = Field(description="ERP order number, or #id before the ERP has it")


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


_PAGE: TypeAdapter[Page[ProductOut]] = TypeAdapter(Page[ProductOut])


async def list_products(
    session: AsyncSession,
    customer_id: int,
    page: PageRequest,
    *,
    search: str | None = None,
    statuses: list[str] | None = None,
    risks: list[str] | None = None,
    sort: ProductSort = ProductSort.RUN_OUT,
    order: SortOrder = SortOrder.ASC,
) -> Page[ProductOut]:
    """The customer's inventory with stock, forecast, cover, run-out and status."""
    result = await snapshots.list_products(
        session,
        customer_id,
        page,
        search=search or None,
        statuses=statuses or [],
        risks=risks or [],
        sort=sort,
        descending=order is SortOrder.DESC,
    )
    # One validation of plain dict rows (in pydantic-core); FastAPI then passes the model
    # instance through and serialises it straight to JSON bytes.
    return _PAGE.validate_python(
        {
            "items": result.items,
            "total": result.total,
            "page": result.page,
            "page_size": result.page_size,
        }
    )


async def product_detail(session: AsyncSession, customer_id: int, code: str) -> ProductDetail:
    """One product with its past 52 weeks of shipments and its projected stock."""
    product = await snapshots.get_product(session, customer_id, code)
    snapshot = await snapshots.get_snapshot(session, customer_id)
    if product is None or snapshot is None:
        raise NotFound(f"product {code} not found", field="code")
    settings = await settings_repo.get_or_create(session, customer_id)
    arrivals = open_arrivals(
        await orders_repo.pipeline_orders(session, customer_id),
        snapshot.as_of,
        settings.lead_time_weeks,
    ).get(code, [])
    view = outlook(product, settings, snapshot.as_of, arrivals)
    line = await recommendations_repo.latest_line(session, customer_id, code)
    snoozed = await snooze_of(session, customer_id, code, snapshot.as_of)
    kept = await snapshots.price_lists(session, customer_id, [code])
    fields = ProductOut.model_validate(product).model_dump()
    fields["plan_status"] = fields.pop("status")
    return ProductDetail.model_validate(
        {
            **fields,
            "weekly_shipments": [WeekCartons.model_validate(w) for w in view.weekly_shipments],
            "projected_stock": [WeekCartons.model_validate(w) for w in view.projected_stock],
            "target_weeks": view.target_weeks,
            "target_cartons": view.target_cartons,
            "next_arrival": arrivals[0].on if arrivals else None,
            "safety_stock_cartons": None
            if line is None
            else line.explanation.get("safety_stock_cartons"),
            "arrivals": [ArrivalOut(on=a.on, cartons=a.cartons, order=a.order) for a in arrivals],
            "snoozed_until": None if snoozed is None else snoozed.until,
            "prices": _current_prices(price_rows(code, kept.get(code))),
            "ordered_value": None
            if line is None or line.value is None or not product.ordered_quantity
            else Decimal(line.value),
            "ordered_value_currency": None if line is None else line.currency,
        }
    )


def _current_prices(rows: list[PriceRow]) -> list[PriceOut]:
    today = datetime.now(UTC).date()
    return [
        PriceOut(
            min_quantity=r.min_quantity,
            unit_price=r.unit_price,
            currency=r.currency,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
        )
        for r in sorted(rows, key=lambda r: (r.valid_from, r.min_quantity))
        if r.valid_to is None or r.valid_to >= today
    ]
