"""Customers: the list (ops see all, a customer user sees its own), one customer, dashboard."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth.deps import CustomerScopeDep, PrincipalDep
from api.deps import SessionDep
from api.schemas.common import AUTH_ERRORS, TENANT_ERRORS, VALIDATION_ERROR, Page, PageRequestDep
from services.views.customers import CustomerOut, Dashboard, customer_out
from services.views.customers import dashboard as dashboard_view
from store.models import Role
from store.overview import customer_overview
from store.pagination import PageRequest

router = APIRouter(prefix="/api/customers", tags=["customers"])


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
        items=[customer_out(r) for r in result.items],
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
    return customer_out(result.items[0])


@router.get(
    "/{customer_id}/dashboard",
    response_model=Dashboard,
    summary="Stock health, urgent containers, next run-out, open orders, last sync",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def dashboard(scope: CustomerScopeDep, session: SessionDep) -> Dashboard:
    return await dashboard_view(session, scope.customer_id)
