"""Customers: the list (ops see all, a customer user sees its own), one customer, dashboard."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth.deps import CustomerScopeDep, PrincipalDep
from api.deps import SessionDep
from api.schemas.common import AUTH_ERRORS, TENANT_ERRORS, VALIDATION_ERROR, Page, PageRequestDep
from api.schemas.customers import (
    CustomerOut,
    CycleOut,
    Dashboard,
    DataQualitySummary,
    LastSync,
    NextRunOut,
    ProductCounts,
    RecommendationBrief,
)
from store.dashboard import dashboard_data
from store.models import PlanStatus, Role
from store.overview import CustomerOverview, customer_overview
from store.pagination import PageRequest

router = APIRouter(prefix="/api/customers", tags=["customers"])


def _customer_out(row: CustomerOverview) -> CustomerOut:
    return CustomerOut(
        id=row.customer.id,
        erp_code=row.customer.erp_code,
        name=row.customer.name,
        timezone=row.customer.timezone,
        last_synced_at=row.synced_at,
        current_recommendation_version=row.current_version,
        cycle=None if row.cycle is None else CycleOut.model_validate(row.cycle),
    )


@router.get(
    "",
    response_model=Page[CustomerOut],
    summary="Customers with their last sync and cycle status (ops: all; customer: its own)",
    responses={**AUTH_ERRORS, **VALIDATION_ERROR},
)
async def list_customers(
    principal: PrincipalDep, session: SessionDep, page: PageRequestDep
) -> Page[CustomerOut]:
    only = None if principal.role is Role.OPS else principal.customer_id
    result = await customer_overview(session, page, only_customer_id=only)
    return Page(
        items=[_customer_out(r) for r in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get(
    "/{customer_id}",
    response_model=CustomerOut,
    summary="One customer with its last sync and cycle status",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def get_customer(scope: CustomerScopeDep, session: SessionDep) -> CustomerOut:
    result = await customer_overview(session, PageRequest(1, 1), only_customer_id=scope.customer_id)
    return _customer_out(result.items[0])


@router.get(
    "/{customer_id}/dashboard",
    response_model=Dashboard,
    summary="Stock health, urgent containers, next run-out, open orders, last sync",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def dashboard(scope: CustomerScopeDep, session: SessionDep) -> Dashboard:
    customer = scope.customer
    data = await dashboard_data(session, customer.id)
    health, current, snapshot = data.health, data.recommendation, data.snapshot
    counts = {status.value: health.by_status.get(status.value, 0) for status in PlanStatus}
    next_run_out = health.next_run_out
    return Dashboard(
        customer=CustomerOut(
            id=customer.id,
            erp_code=customer.erp_code,
            name=customer.name,
            timezone=customer.timezone,
            last_synced_at=None if snapshot is None else snapshot["synced_at"],
            current_recommendation_version=None if current is None else current["version"],
            cycle=None if data.cycle is None else CycleOut.model_validate(data.cycle),
        ),
        products=ProductCounts(total=sum(counts.values()), urgent=health.urgent, **counts),
        urgent_containers=0 if current is None else current["urgent_container_count"],
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
