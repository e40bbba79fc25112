"""Operations: customer settings, ERP data-quality reports, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth.deps import MAX_ID, OpsCustomerScopeDep, OpsDep
from api.deps import ResourcesDep, SessionDep
from api.routes.cycle_actions import UNAVAILABLE
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, ErrorBody, Page, PageRequestDep
from api.schemas.misc import AuditOut, DataQualityOut
from core.errors import NotFound
from services import customer_settings, schedules
from services.customer_settings import CustomerSettingsValues
from services.data_quality import latest_report
from store import audit
from store import customer_settings as settings_repo

router = APIRouter(prefix="/api", tags=["ops"])


@router.get(
    "/customers/{customer_id}/settings",
    response_model=CustomerSettingsValues,
    summary="A customer's planning, cadence and approval settings (ops)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def read_settings(scope: OpsCustomerScopeDep, session: SessionDep) -> CustomerSettingsValues:
    return await customer_settings.read(session, scope.customer)


@router.put(
    "/customers/{customer_id}/settings",
    response_model=CustomerSettingsValues,
    summary="Replace a customer's settings (ops); validated, nothing stored on error. "
    "A changed cadence updates the customer's cycle schedule in Temporal",
    responses={
        **TENANT_ERRORS,
        **VALIDATION_ERROR,
        **UNAVAILABLE,
        409: {
            "model": ErrorBody,
            "description": "A container limit no pack of the customer's products fits in; "
            "`field` names it",
        },
    },
)
async def update_settings(
    body: CustomerSettingsValues,
    scope: OpsCustomerScopeDep,
    session: SessionDep,
    resources: ResourcesDep,
) -> CustomerSettingsValues:
    before = await customer_settings.read(session, scope.customer)
    stored = await customer_settings.update(
        session,
        scope.customer,
        body,
        actor=scope.principal.actor,
        user_id=scope.principal.user_id,
    )
    if any(getattr(before, f) != getattr(stored, f) for f in schedules.SCHEDULE_FIELDS):
        # Before the commit: if Temporal cannot take the new cadence (503), nothing is stored.
        await schedules.sync_schedule(
            await resources.temporal.get(),
            scope.customer,
            await settings_repo.get_or_create(session, scope.customer_id),
            task_queue=resources.settings.temporal_task_queue,
            jitter=resources.settings.schedule_jitter,
        )
    return stored


@router.get(
    "/customers/{customer_id}/data-quality",
    response_model=DataQualityOut,
    summary="The data-quality report of the customer's latest ERP sync (ops)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def data_quality(scope: OpsCustomerScopeDep, session: SessionDep) -> DataQualityOut:
    latest = await latest_report(session, scope.customer_id)
    if latest is None:
        raise NotFound(f"customer {scope.customer_id} has not been synced yet")
    return DataQualityOut(
        customer_id=scope.customer_id,
        erp_code=scope.customer.erp_code,
        synced_at=latest.synced_at,
        as_of=latest.as_of,
        issues=latest.report.issue_count,
        report=latest.report,
    )


@router.get(
    "/audit",
    response_model=Page[AuditOut],
    summary="The audit log, newest first (ops)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def audit_log(
    _ops: OpsDep,
    session: SessionDep,
    page: PageRequestDep,
    customer_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this customer", examples=[1])
    ] = None,
    action: Annotated[
        str | None,
        Query(max_length=80, pattern=r"^[a-z_.]+$", examples=["settings.updated"]),
    ] = None,
) -> Page[AuditOut]:
    result = await audit.list_entries(session, page, customer_id=customer_id, action=action)
    return Page(
        items=[AuditOut.model_validate(e) for e in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )
