"""A customer's inventory: stock, forecast, cover, run-out and status, searchable and sorted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from api.auth.deps import CustomerScopeDep
from api.deps import SessionDep
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, Page, PageRequestDep
from services import snoozes
from services.risk import Risk
from services.snoozes import SnoozeBody, SnoozeOut
from services.views.products import ProductDetail, ProductOut, SortOrder, product_detail
from services.views.products import list_products as list_products_view
from store.models import CustomerRole, PlanStatus
from store.snapshots import ProductSort

router = APIRouter(prefix="/api/customers", tags=["products"])


SearchText = Annotated[
    str | None,
    Query(
        max_length=100,
        pattern=r"^[^\x00]*$",
        description="Case-insensitive substring of the product code or name; "
        "`%`, `_` and `\\` match themselves",
        examples=["coffee"],
    ),
]


@router.get(
    "/{customer_id}/products",
    response_model=Page[ProductOut],
    summary="Inventory with stock, forecast, cover, run-out and status",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def list_products(
    scope: CustomerScopeDep,
    session: SessionDep,
    page: PageRequestDep,
    q: SearchText = None,
    status: Annotated[
        list[PlanStatus] | None,
        Query(description="Only these plan statuses (repeat for several)", examples=[["at_risk"]]),
    ] = None,
    risk: Annotated[
        list[Risk] | None,
        Query(
            description="Only these risks, the vocabulary every page uses (repeat for several)",
            examples=[["stocked_out", "runs_out_before_arrival"]],
        ),
    ] = None,
    sort: Annotated[ProductSort, Query(description="Sort key; NULLs sort last")] = (
        ProductSort.RUN_OUT
    ),
    order: Annotated[SortOrder, Query(description="Sort direction")] = SortOrder.ASC,
) -> Page[ProductOut]:
    return await list_products_view(
        session,
        scope.customer_id,
        page,
        search=q,
        statuses=[s.value for s in status or []],
        risks=[r.value for r in risk or []],
        sort=sort,
        order=order,
    )


ProductCodePath = Annotated[
    str, Path(min_length=1, max_length=64, description="The product's code", examples=["P-00017"])
]


@router.get(
    "/{customer_id}/products/{code}",
    response_model=ProductDetail,
    summary="One product: stock, forecast, past 52 weeks of shipments, projected stock",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def get_product(
    scope: CustomerScopeDep, session: SessionDep, code: ProductCodePath
) -> ProductDetail:
    return await product_detail(session, scope.customer_id, code)


@router.put(
    "/{customer_id}/products/{code}/snooze",
    response_model=SnoozeOut,
    summary="Put a product off for N reviews: plans made before then do not order it "
    "(from the next plan: refresh to re-plan the waiting one); a second snooze replaces it",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def snooze_product(
    body: SnoozeBody, scope: CustomerScopeDep, session: SessionDep, code: ProductCodePath
) -> SnoozeOut:
    scope.principal.require_customer_role(
        CustomerRole.BUYER, CustomerRole.APPROVER, doing="snoozing a product"
    )
    return await snoozes.snooze(
        session, scope.customer_id, code, body.reviews, scope.principal.actor
    )


@router.delete(
    "/{customer_id}/products/{code}/snooze",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End a product's snooze now: the next plan orders it again",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def wake_product(scope: CustomerScopeDep, session: SessionDep, code: ProductCodePath) -> None:
    scope.principal.require_customer_role(
        CustomerRole.BUYER, CustomerRole.APPROVER, doing="ending a snooze"
    )
    await snoozes.wake(session, scope.customer_id, code, scope.principal.actor)
