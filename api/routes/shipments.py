"""Shipments: each ERP order Restock placed, followed to delivery by its own workflow.

A customer sees its own (late first); ops see every customer's, filtered to the late ones
with `late=true` (what `temporal workflow list --query 'ShipmentStatus="late"'` finds).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth.deps import MAX_ID, CustomerScopeDep, OpsDep
from api.deps import ResourcesDep, SessionDep
from api.schemas.common import AUTH_ERRORS, TENANT_ERRORS, VALIDATION_ERROR, Page, PageRequestDep
from services.shipment_views import (
    OpsShipmentView,
    ShipmentView,
    all_shipments,
    customer_shipments,
)

router = APIRouter(prefix="/api", tags=["shipments"])

OpenOnly = Annotated[
    bool, Query(alias="open", description="Only shipments not yet delivered or cancelled")
]


@router.get(
    "/customers/{customer_id}/shipments",
    response_model=Page[ShipmentView],
    summary="The customer's shipments: late first, then by ETA",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def list_customer_shipments(
    scope: CustomerScopeDep, session: SessionDep, page: PageRequestDep, open_only: OpenOnly = True
) -> Page[ShipmentView]:
    result = await customer_shipments(session, scope.customer_id, page, open_only=open_only)
    return Page(
        items=result.items, total=result.total, page=result.page, page_size=result.page_size
    )


@router.get(
    "/shipments",
    response_model=Page[OpsShipmentView],
    summary="Every customer's shipments, late first, with their Temporal UI links (ops)",
    responses={**AUTH_ERRORS, **VALIDATION_ERROR},
    tags=["ops"],
)
async def list_all_shipments(
    _ops: OpsDep,
    session: SessionDep,
    resources: ResourcesDep,
    page: PageRequestDep,
    open_only: OpenOnly = True,
    late: Annotated[bool, Query(description="Only late shipments")] = False,
    customer_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this customer", examples=[1])
    ] = None,
) -> Page[OpsShipmentView]:
    result = await all_shipments(
        session,
        page,
        settings=resources.settings,
        customer_id=customer_id,
        open_only=open_only,
        late_only=late,
    )
    return Page(
        items=result.items, total=result.total, page=result.page, page_size=result.page_size
    )
