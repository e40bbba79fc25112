"""A customer's orders: approved, in transit, completed; filtered by status and date."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth.deps import MAX_ID, CustomerScopeDep
from api.deps import SessionDep
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, IsoDate, Page, PageRequestDep
from api.schemas.orders import OrderDetail, OrderOut
from core.errors import InvalidInput, NotFound
from services import confirmations
from services.confirmation_pdf import as_pdf
from services.order_views import order_csv, order_view
from services.tables import EXPORTS, attachment, encode
from store import orders as orders_repo
from store.models import Order, OrderStatus

router = APIRouter(prefix="/api/customers", tags=["orders"])
PDF = "application/pdf"


@router.get(
    "/{customer_id}/orders",
    response_model=Page[OrderOut],
    summary="Orders, newest first; filter by status and order date",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def list_orders(
    scope: CustomerScopeDep,
    session: SessionDep,
    page: PageRequestDep,
    status: Annotated[
        list[OrderStatus] | None,
        Query(description="Only these statuses (repeat for several)", examples=[["in_transit"]]),
    ] = None,
    ordered_from: Annotated[
        IsoDate | None,
        Query(description="Ordered on or after (YYYY-MM-DD)", examples=["2026-01-01"]),
    ] = None,
    ordered_to: Annotated[
        IsoDate | None,
        Query(
            description="Ordered on or before (YYYY-MM-DD); before ordered_from is a 422",
            examples=["2026-12-31"],
        ),
    ] = None,
    lines: Annotated[
        bool,
        Query(
            description="Include each order's lines; `false` answers `lines: []` (a large "
            "customer's ERP orders have thousands; status polling does not need them)"
        ),
    ] = True,
) -> Page[OrderOut]:
    if ordered_from and ordered_to and ordered_from > ordered_to:
        raise InvalidInput("ordered_from is after ordered_to", field="ordered_from")
    result = await orders_repo.list_orders(
        session,
        scope.customer_id,
        page,
        statuses=[s.value for s in status or []],
        ordered_from=ordered_from,
        ordered_to=ordered_to,
        with_lines=lines,
    )
    return Page(
        items=[OrderOut.model_validate(o) if lines else _without_lines(o) for o in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get(
    "/{customer_id}/orders/{order_id}",
    response_model=OrderDetail,
    summary="One order with its status history",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def get_order(
    scope: CustomerScopeDep,
    session: SessionDep,
    order_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Order id", examples=[31])],
) -> OrderDetail:
    order = await orders_repo.get_order(session, scope.customer_id, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found", field="order_id")
    return OrderDetail.model_validate(order)


@router.get(
    "/{customer_id}/orders/{order_id}/lines.csv",
    summary="One order's lines as CSV (ERP number, status, dates, product, name, cartons)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, 200: {"content": {"text/csv": {}}}},
    response_class=Response,
)
async def export_order(
    scope: CustomerScopeDep,
    session: SessionDep,
    order_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Order id", examples=[31])],
) -> Response:
    order = await order_view(session, scope.customer_id, order_id)
    reference = re.sub(r"[^A-Za-z0-9._-]", "_", order.erp_order_number or str(order.id))
    name = f"order-{reference}.csv"
    return Response(
        order_csv(order),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/{customer_id}/recommendations/{version}/confirmation.xlsx",
    summary="The order confirmation of an approved recommendation: each container's ERP "
    "order, lines, prices and values, with subtotals and the total (XLSX)",
    responses={
        **TENANT_ERRORS,
        **VALIDATION_ERROR,
        200: {"content": {EXPORTS["xlsx"]: {}}},
    },
    response_class=Response,
)
async def order_confirmation(
    scope: CustomerScopeDep,
    session: SessionDep,
    version: Annotated[int, Path(ge=1, le=MAX_ID, description="Recommendation version")],
) -> Response:
    found = await confirmations.confirmation(session, scope.customer_id, version)
    name = f"order-confirmation-{found.erp_code}-v{version}"
    return Response(
        encode(confirmations.as_rows(found), "xlsx", "Confirmation"),
        headers=attachment(name, "xlsx"),
    )


@router.get(
    "/{customer_id}/recommendations/{version}/confirmation.pdf",
    summary="The same order confirmation as a PDF document, to print or forward",
    responses={
        **TENANT_ERRORS,
        **VALIDATION_ERROR,
        200: {"content": {PDF: {}}},
    },
    response_class=Response,
)
async def order_confirmation_pdf(
    scope: CustomerScopeDep,
    session: SessionDep,
    version: Annotated[int, Path(ge=1, le=MAX_ID, description="Recommendation version")],
) -> Response:
    found = await confirmations.confirmation(session, scope.customer_id, version)
    name = f"order-confirmation-{found.erp_code}-v{version}.pdf"
    return Response(
        as_pdf(found),
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _without_lines(order: Order) -> OrderOut:
    fields = {name: getattr(order, name) for name in OrderOut.model_fields if name != "lines"}
    return OrderOut.model_validate({**fields, "lines": []})
