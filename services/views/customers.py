from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from services.risk import Risk
from store.dashboard import dashboard_data
from store.models import PlanStatus, RecommendationStatus
from store.overview import CustomerOverview

_CYCLE_EXAMPLE: JsonDict = {
    "id": 12,
    "workflow_id": "reorder-cycle-1",
    "status": "awaiting_approval",
    "recommendation_version": 4,
    "order_id": None,
    "detail": None,
    "started_at": "2026-11-16T06:00:00Z",
    "updated_at": "2026-11-16T06:00:09Z",
    "finished_at": None,
}


class CycleOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_CYCLE_EXAMPLE]}
    )

    id: int
    workflow_id: str
    status: str = Field(description="Phase the workflow last reported")
    recommendation_version: int | None
    order_id: int | None
    detail: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class CustomerOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "erp_code": "K-10040",
                    "name": "Harbour Café Group",
                    "timezone": "Europe/Berlin",
                    "last_synced_at": "2026-11-16T06:00:03Z",
                    "current_recommendation_version": 4,
                    "cycle": _CYCLE_EXAMPLE,
                }
            ]
        }
    )

    id: int
    erp_code: str
    name: str
    timezone: str
    last_synced_at: datetime | None
    current_recommendation_version: int | None
    cycle: CycleOut | None = Field(description="The latest cycle, if any ran")


class ProductCounts(BaseModel):
    total: int
    at_risk: int
    reorder: int
    healthy: int
    no_history: int
    discontinued: int
    snoozed: int = Field(default=0, description="Put off by the buyer for some reviews")
    unplanned: int
    urgent: int


class NextRunOut(BaseModel):
    product_code: str
    name: str
    run_out_date: date
    weeks_of_cover: float | None


class RecommendationBrief(BaseModel):
    version: int
    status: str
    as_of: date
    summary: str
    containers: int
    urgent_containers: int
    cartons: int
    value: Decimal | None = Field(
        default=None, description="What its containers are worth; null without prices"
    )
    currency: str | None = None


class DataQualitySummary(BaseModel):
    issues: int
    clean: bool
    counts: dict[str, int]


class LastSync(BaseModel):
    synced_at: datetime
    as_of: date
    products: int
    data_quality: DataQualitySummary


class Dashboard(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": {
                        "id": 1,
                        "erp_code": "K-10040",
                        "name": "Harbour Café Group",
                        "timezone": "Europe/Berlin",
                        "last_synced_at": "2026-11-16T06:00:03Z",
                        "current_recommendation_version": 4,
                        "cycle": None,
                    },
                    "products": {
                        "total": 40,
                        "at_risk": 3,
                        "reorder": 9,
                        "healthy": 25,
                        "no_history": 1,
                        "discontinued": 2,
                        "unplanned": 0,
                        "urgent": 3,
                    },
                    "urgent_containers": 1,
                    "next_run_out": {
                        "product_code": "P-00017",
                        "name": "Organic Coffee Beans 1 kg",
                        "run_out_date": "2026-12-02",
                        "weeks_of_cover": 2.3,
                    },
                    "recommendation": {
                        "version": 4,
                        "status": "current",
                        "as_of": "2026-11-16",
                        "summary": "2 containers, 1 urgent",
                        "containers": 2,
                        "urgent_containers": 1,
                        "cartons": 171000,
                    },
                    "open_orders": {"approved": 0, "submitted": 1, "in_transit": 2},
                    "last_sync": {
                        "synced_at": "2026-11-16T06:00:03Z",
                        "as_of": "2026-11-16",
                        "products": 40,
                        "data_quality": {
                            "issues": 2,
                            "clean": False,
                            "counts": {"negative_stock": 2},
                        },
                    },
                }
            ]
        }
    )

    customer: CustomerOut
    products: ProductCounts
    risks: dict[str, int] = Field(
        default_factory=dict,
        description="Products by risk (services.risk.Risk: stocked_out, "
        "runs_out_before_arrival, below_safety, excess, too_much_on_order, ok, ...); every "
        "page counts and labels risk the same way",
    )
    urgent_containers: int = Field(
        description="Urgent containers in the recommendation waiting for a decision"
    )
    next_run_out: NextRunOut | None
    recommendation: RecommendationBrief | None = Field(
        description="The latest version with its status (current, approved, …), if any"
    )
    open_orders: dict[str, int] = Field(description="Open orders by status")
    last_sync: LastSync | None


def customer_out(row: CustomerOverview) -> CustomerOut:
    return CustomerOut(
        id=row.customer.id,
        erp_code=row.customer.erp_code,
        name=row.customer.name,
        timezone=row.customer.timezone,
        last_synced_at=row.synced_at,
        current_recommendation_version=row.current_version,
        cycle=None if row.cycle is None else CycleOut.model_validate(row.cycle),
    )


async def dashboard(session: AsyncSession, customer_id: int) -> Dashboard:
    """Stock health, urgent containers, next run-out, open orders and the last sync."""
    data = await dashboard_data(session, customer_id)
    if data is None:
        raise NotFound(f"customer {customer_id} not found")
    customer = data.customer
    health, current, snapshot = data.health, data.recommendation, data.snapshot
    counts = {status.value: health.by_status.get(status.value, 0) for status in PlanStatus}
    next_run_out = health.next_run_out
    return Dashboard(
        customer=CustomerOut(
            id=customer["id"],
            erp_code=customer["erp_code"],
            name=customer["name"],
            timezone=customer["timezone"],
            last_synced_at=None if snapshot is None else snapshot["synced_at"],
            current_recommendation_version=None if current is None else current["version"],
            cycle=None if data.cycle is None else CycleOut.model_validate(data.cycle),
        ),
        products=ProductCounts(total=sum(counts.values()), urgent=health.urgent, **counts),
        risks={risk.value: health.by_risk.get(risk.value, 0) for risk in Risk},
        urgent_containers=0
        if current is None or current["status"] != RecommendationStatus.CURRENT.value
        else current["urgent_container_count"],
        next_run_out=None
        if next_run_out is None
        else NextRunOut(
            product_code=next_run_out.code,
            name=next_run_out.name,
            run_out_date=next_run_out.run_out_date,
            weeks_of_cover=next_run_out.weeks_of_cover,
        ),
        recommendation=None
        if current is None
        else RecommendationBrief(
            version=current["version"],
            status=current["status"],
            as_of=current["as_of"],
            summary=current["summary"],
            containers=current["container_count"],
            urgent_containers=current["urgent_container_count"],
            cartons=current["cartons"],
            value=(current["totals"] or {}).get("value"),
            currency=(current["totals"] or {}).get("currency"),
        ),
        open_orders=data.open_orders,
        last_sync=None
        if snapshot is None
        else LastSync(
            synced_at=snapshot["synced_at"],
            as_of=snapshot["as_of"],
            products=snapshot["product_count"],
            data_quality=_quality_summary(snapshot["data_quality"]),
        ),
    )


def _quality_summary(report: dict[str, object]) -> DataQualitySummary:
    raw = report.get("counts")
    counts = {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return DataQualitySummary(issues=sum(counts.values()), clean=not counts, counts=counts)
