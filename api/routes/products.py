"""A customer's inventory: stock, forecast, cover, run-out and status, searchable and sorted."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import TypeAdapter

from api.auth.deps import CustomerScopeDep
from api.deps import SessionDep
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, Page, PageRequestDep
from api.schemas.products import ProductDetail, ProductOut, WeekCartons
from core.errors import NotFound
from services.product_detail import outlook
from store import customer_settings as settings_repo
from store import snapshots
from store.models import PlanStatus
from store.snapshots import ProductSort

router = APIRouter(prefix="/api/customers", tags=["products"])


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


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
        Query(description="Only these statuses (repeat for several)", examples=[["at_risk"]]),
    ] = None,
    sort: Annotated[ProductSort, Query(description="Sort key; NULLs sort last")] = (
        ProductSort.RUN_OUT
    ),
    order: Annotated[SortOrder, Query(description="Sort direction")] = SortOrder.ASC,
) -> Page[ProductOut]:
    result = await snapshots.list_products(
        session,
        scope.customer_id,
        page,
        search=q or None,
        statuses=[s.value for s in status or []],
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


_PAGE: TypeAdapter[Page[ProductOut]] = TypeAdapter(Page[ProductOut])


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
    product = await snapshots.get_product(session, scope.customer_id, code)
    snapshot = await snapshots.get_snapshot(session, scope.customer_id)
    if product is None or snapshot is None:
        raise NotFound(f"product {code} not found", field="code")
    settings = await settings_repo.get_or_create(session, scope.customer_id)
    view = outlook(product, settings, snapshot.as_of)
    fields = ProductOut.model_validate(product).model_dump()
    fields["plan_status"] = fields.pop("status")
    return ProductDetail.model_validate(
        {
            **fields,
            "weekly_shipments": [WeekCartons.model_validate(w) for w in view.weekly_shipments],
            "projected_stock": [WeekCartons.model_validate(w) for w in view.projected_stock],
            "target_weeks": view.target_weeks,
            "target_cartons": view.target_cartons,
        }
    )
