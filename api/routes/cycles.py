"""A customer's reorder cycles, as the workflow reported them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.auth.deps import MAX_ID, CustomerScopeDep
from api.deps import SessionDep
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, Page, PageRequestDep
from core.errors import NotFound
from services.views.customers import CycleOut
from store import cycles as cycles_repo

router = APIRouter(prefix="/api/customers", tags=["cycles"])


@router.get(
    "/{customer_id}/cycles",
    response_model=Page[CycleOut],
    summary="Cycles, newest first",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def list_cycles(
    scope: CustomerScopeDep, session: SessionDep, page: PageRequestDep
) -> Page[CycleOut]:
    result = await cycles_repo.list_cycles(session, scope.customer_id, page)
    return Page(
        items=[CycleOut.model_validate(c) for c in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get(
    "/{customer_id}/cycles/{cycle_id}",
    response_model=CycleOut,
    summary="One cycle",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def get_cycle(
    scope: CustomerScopeDep,
    session: SessionDep,
    cycle_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Cycle id", examples=[12])],
) -> CycleOut:
    cycle = await cycles_repo.get_cycle(session, scope.customer_id, cycle_id)
    if cycle is None:
        raise NotFound(f"cycle {cycle_id} not found", field="cycle_id")
    return CycleOut.model_validate(cycle)
