"""Running a customer's reorder cycle: start it, read it, and decide on its recommendation.

Decisions are Temporal Updates on the customer's open `ReorderCycle`: the workflow's
validators refuse what does not apply (stale version, not waiting, second approval) and the
refusal comes back as 409 with the workflow's message. Temporal being unreachable is 503; the
client provider reconnects on a later request, so the API recovers by itself. Every decision
is audited by the workflow's activities, with the caller as the actor.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from api.auth.deps import MAX_ID, CustomerRecordDep, CustomerScopeDep, OpsDep, Principal
from api.deps import ResourcesDep, SessionDep
from api.schemas.common import (
    AUTH_ERRORS,
    TENANT_ERRORS,
    VALIDATION_ERROR,
    ErrorBody,
    Page,
    PageRequestDep,
)
from api.schemas.cycles import (
    ApproveBody,
    ChoiceBody,
    CycleRecordOut,
    CycleStateOut,
    CycleView,
    OpsActionBody,
    OpsCycleOut,
    OrdersOut,
    ProposeBody,
    RejectBody,
)
from core.errors import Conflict, Forbidden, NotFound
from core.settings import Settings
from core.temporal import temporal_ui_url
from services.additions import added_products
from services.approval_review import ApprovalReview, review_approval
from services.cycle_control import (
    cycle_handle,
    cycle_policy,
    rpc_error,
    send_update,
    start_review,
)
from store import customer_settings as settings_repo
from store import cycles as cycles_repo
from store.db import reading
from store.models import CustomerRole, Cycle, Role
from workflows.contract import names
from workflows.contract.cycle import (
    OVER_LIMIT_FIELD,
    ApproveRequest,
    ApproveResult,
    CycleState,
    CycleStatus,
    OpsRequest,
    ProposeRequest,
    RefreshRequest,
    RejectRequest,
)
from workflows.contract.names import cycle_workflow_id

router = APIRouter(prefix="/api", tags=["cycle actions"])


def _doc(description: str, code: str, detail: str) -> dict[str, Any]:
    return {
        "model": ErrorBody,
        "description": description,
        "content": {
            "application/json": {"example": {"error": code, "detail": detail, "field": None}}
        },
    }


CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _doc(
        "The cycle refused the decision (stale version, not waiting, already decided)",
        "cycle_refused",
        "version: v3 is stale; the current recommendation is v4",
    )
}
PENDING: dict[int | str, dict[str, Any]] = {
    202: _doc(
        "No answer within RESTOCK_TEMPORAL_RPC_TIMEOUT_SECONDS (no worker?); the decision may "
        "still take effect: send it again with the same Idempotency-Key for its outcome",
        "decision_pending",
        "cycle reorder-cycle-1 did not answer the approve within 30 s (is a worker running?). "
        "It may still take effect: send it again with the same Idempotency-Key for its outcome",
    )
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: _doc(
        "Temporal is unreachable; retry later",
        "dependency_unavailable",
        "temporal is unavailable: cannot connect to 127.0.0.1:7233",
    )
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retrying with the same key is one decision: the first outcome is returned",
        examples=["5f1c2a9e-approve-v4"],
    ),
]


def _timeout(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.temporal_rpc_timeout_seconds)


def _update_id(kind: str, customer_id: int, key: str | None) -> str | None:
    """A client's Idempotency-Key as a Temporal update id: the server deduplicates it."""
    if key is None:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{kind}-{customer_id}-{digest}"


async def release(session: AsyncSession) -> None:
    """End the request's transaction before asking Temporal: the cycle's activities write to
    the same database while we wait (on SQLite every transaction holds the write lock)."""
    await session.commit()


def _record(row: Cycle | None) -> CycleRecordOut | None:
    return None if row is None else CycleRecordOut.model_validate(row)


def _ui_link(
    settings: Settings, principal: Principal, workflow_id: str, run_id: str | None = None
) -> str | None:
    """The Temporal UI is for ops: a customer is never handed its link."""
    if principal.role is not Role.OPS:
        return None
    return temporal_ui_url(settings, workflow_id, run_id)


async def current_cycle(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    customer_id: int,
    principal: Principal,
) -> CycleView:
    """The customer's open cycle from its workflow, else its latest one; 404 if it has none.

    Temporal first, the read model last, each in its own short transaction: no database
    transaction (on SQLite, the write lock) is held while the cycle is asked."""
    handle = cycle_handle(client, customer_id)
    try:
        described = await handle.describe()
    except RPCError as err:
        error = rpc_error(err, handle.id)
        if not isinstance(error, NotFound):
            raise error from err
        return await _from_read_model(settings, sessions, customer_id, principal)
    run_id = described.run_id
    run = cycle_handle(client, customer_id, run_id)
    state: CycleState | None = None
    is_open = described.status is WorkflowExecutionStatus.RUNNING
    try:
        if is_open:
            state = await run.query(
                names.STATUS, result_type=CycleState, rpc_timeout=_timeout(settings)
            )
        elif described.status is WorkflowExecutionStatus.COMPLETED:
            state = await run.result(rpc_timeout=_timeout(settings))
    except RPCError as err:
        raise rpc_error(err, handle.id) from err
    async with reading(sessions) as session:
        row = await cycles_repo.cycle_of_run(session, run_id)
    if not is_open and row is None:
        # A closed run this database never recorded (e.g. the database was rebuilt while
        # Temporal kept its history): it is not this customer's cycle.
        return await _from_read_model(settings, sessions, customer_id, principal)
    if state is not None:
        current = state.status.value
    elif row is not None:
        current = row.status
    else:
        current = (described.status.name if described.status else "unknown").lower()
    return CycleView(
        workflow_id=handle.id,
        run_id=run_id,
        status=current,
        open=is_open,
        temporal_ui_url=_ui_link(settings, principal, handle.id, run_id),
        state=state,
        record=_record(row),
    )


async def _from_read_model(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    customer_id: int,
    principal: Principal,
) -> CycleView:
    async with reading(sessions) as session:
        row = await cycles_repo.latest_cycle(session, customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id} has no cycle")
    return CycleView(
        workflow_id=row.workflow_id,
        run_id=row.run_id,
        status=row.status,
        open=False,
        temporal_ui_url=_ui_link(settings, principal, row.workflow_id, row.run_id),
        state=None,
        record=_record(row),
    )


@router.post(
    "/customers/{customer_id}/cycles",
    response_model=CycleView,
    status_code=status.HTTP_201_CREATED,
    summary="Review the customer now: start a reorder cycle, or review the open one (200): "
    "a recommendation still waiting is refreshed, a failed submission reminds ops",
    responses={
        200: {"model": CycleView, "description": "A cycle was already open; it is returned"},
        **TENANT_ERRORS,
        **VALIDATION_ERROR,
        **PENDING,
        **UNAVAILABLE,
    },
)
async def start_now(
    scope: CustomerRecordDep, session: SessionDep, resources: ResourcesDep, response: Response
) -> CycleView:
    scope.principal.require_customer_role(
        CustomerRole.BUYER, CustomerRole.APPROVER, doing="starting a review"
    )
    settings = resources.settings
    settings_row = await settings_repo.get_or_create(session, scope.customer_id)
    policy = cycle_policy(settings_row)
    customer_name = scope.customer.name
    await release(session)  # the settings row exists before the workflow reads it
    client = await resources.temporal.get()
    started = await start_review(
        client,
        customer_id=scope.customer_id,
        customer_name=customer_name,
        task_queue=settings.temporal_task_queue,
        policy=policy,
        started_by=scope.principal.actor,
        rpc_timeout=_timeout(settings),
        erp_customer=scope.customer.erp_code,
    )
    if started.action == "started":
        return CycleView(
            workflow_id=started.workflow_id,
            run_id=started.run_id,
            status=CycleStatus.SYNCING.value,
            open=True,
            started=True,
            temporal_ui_url=_ui_link(
                settings, scope.principal, started.workflow_id, started.run_id
            ),
            state=CycleState(
                workflow_id=started.workflow_id,
                customer_id=scope.customer_id,
                customer_name=customer_name,
                status=CycleStatus.SYNCING,
            ),
            record=None,
        )
    response.status_code = status.HTTP_200_OK
    view = await current_cycle(
        client, settings, resources.sessions, scope.customer_id, scope.principal
    )
    review = f"{started.action}: {started.reason}" if started.reason else started.action
    return view.model_copy(update={"started": False, "review": review})


@router.get(
    "/customers/{customer_id}/cycles/current",
    response_model=CycleView,
    summary="The open cycle's live state (else the latest cycle's outcome); 404 when none",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **UNAVAILABLE},
)
async def get_current(
    scope: CustomerScopeDep, session: SessionDep, resources: ResourcesDep
) -> CycleView:
    await release(session)
    client = await resources.temporal.get()
    return await current_cycle(
        client, resources.settings, resources.sessions, scope.customer_id, scope.principal
    )


@router.post(
    "/customers/{customer_id}/orders",
    response_model=OrdersOut,
    status_code=status.HTTP_201_CREATED,
    summary="Approve the current recommendation (all or chosen containers, with edits); "
    "answers with its orders after each was offered to the ERP once (ERP numbers included)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT, **PENDING, **UNAVAILABLE},
)
async def approve(
    body: ApproveBody,
    scope: CustomerScopeDep,
    session: SessionDep,
    resources: ResourcesDep,
    idempotency_key: IdempotencyKey = None,
) -> OrdersOut:
    principal = scope.principal
    principal.require_customer_role(CustomerRole.BUYER, CustomerRole.APPROVER, doing="approving")
    if body.credit_override is not None and principal.role is not Role.OPS:
        raise Forbidden("credit_override: operations staff only", field="credit_override")
    added = await added_products(session, scope.customer_id, body.version, body.edits)
    await release(session)
    client = await resources.temporal.get()
    try:
        result = await send_update(
            client,
            scope.customer_id,
            names.APPROVE,
            ApproveRequest(
                version=body.version,
                containers=body.containers,
                edits=body.edits,
                added=added,
                actor=principal.actor,
                credit_override=body.credit_override,
                authority=principal.authority,
            ),
            result_type=ApproveResult,
            update_id=_update_id("approve", scope.customer_id, idempotency_key),
            rpc_timeout=_timeout(resources.settings),
        )
    except Conflict as refused:
        if refused.detail.startswith(f"{OVER_LIMIT_FIELD}:"):
            raise Forbidden(
                refused.detail, code="over_approval_limit", field=OVER_LIMIT_FIELD
            ) from refused
        raise
    workflow_id = cycle_workflow_id(scope.customer_id)
    return OrdersOut(
        workflow_id=workflow_id,
        version=result.version,
        orders=result.orders,
        temporal_ui_url=_ui_link(resources.settings, scope.principal, workflow_id),
    )


@router.post(
    "/customers/{customer_id}/proposals",
    response_model=CycleStateOut,
    status_code=status.HTTP_201_CREATED,
    summary="Propose a choice above your approval limit: it waits in the cycle for an "
    "approver whose limit covers it (they are e-mailed) and is approved like any choice",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT, **PENDING, **UNAVAILABLE},
)
async def propose(
    body: ProposeBody,
    scope: CustomerScopeDep,
    session: SessionDep,
    resources: ResourcesDep,
    idempotency_key: IdempotencyKey = None,
) -> CycleStateOut:
    principal = scope.principal
    principal.require_customer_role(CustomerRole.BUYER, CustomerRole.APPROVER, doing="proposing")
    added = await added_products(session, scope.customer_id, body.version, body.edits)
    await release(session)
    client = await resources.temporal.get()
    state = await send_update(
        client,
        scope.customer_id,
        names.PROPOSE,
        ProposeRequest(
            version=body.version,
            containers=body.containers,
            edits=body.edits,
            added=added,
            actor=principal.actor,
            authority=principal.authority,
        ),
        result_type=CycleState,
        update_id=_update_id("propose", scope.customer_id, idempotency_key),
        rpc_timeout=_timeout(resources.settings),
    )
    return CycleStateOut(state=state)


@router.post(
    "/customers/{customer_id}/recommendations/{version}/review",
    response_model=ApprovalReview,
    summary="Review an approval before sending it: exactly the ERP orders it would make "
    "(containers, lines, cartons, weight, volume, changes against the suggestion); refuses "
    "what the cycle would refuse, naming the field",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT},
)
async def review(
    body: ChoiceBody,
    scope: CustomerScopeDep,
    session: SessionDep,
    version: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> ApprovalReview:
    return await review_approval(session, scope.customer_id, version, body.containers, body.edits)


@router.post(
    "/customers/{customer_id}/recommendations/{version}/reject",
    response_model=CycleStateOut,
    summary="Reject the current recommendation (reason required); the cycle ends",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT, **PENDING, **UNAVAILABLE},
)
async def reject(
    body: RejectBody,
    scope: CustomerScopeDep,
    session: SessionDep,
    resources: ResourcesDep,
    version: Annotated[int, Path(ge=1, le=MAX_ID, description="Version number", examples=[4])],
    idempotency_key: IdempotencyKey = None,
) -> CycleStateOut:
    scope.principal.require_customer_role(CustomerRole.APPROVER, doing="rejecting")
    await release(session)
    client = await resources.temporal.get()
    state = await send_update(
        client,
        scope.customer_id,
        names.REJECT,
        RejectRequest(version=version, reason=body.reason, actor=scope.principal.actor),
        result_type=CycleState,
        update_id=_update_id("reject", scope.customer_id, idempotency_key),
        rpc_timeout=_timeout(resources.settings),
    )
    return CycleStateOut(state=state)


@router.post(
    "/customers/{customer_id}/cycles/current/refresh",
    response_model=CycleStateOut,
    summary="Re-sync from the ERP and re-plan; older versions can no longer be approved",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT, **PENDING, **UNAVAILABLE},
)
async def refresh(
    scope: CustomerScopeDep, session: SessionDep, resources: ResourcesDep
) -> CycleStateOut:
    scope.principal.require_customer_role(
        CustomerRole.BUYER, CustomerRole.APPROVER, doing="refreshing"
    )
    await release(session)
    client = await resources.temporal.get()
    state = await send_update(
        client,
        scope.customer_id,
        names.REFRESH,
        RefreshRequest(actor=scope.principal.actor),
        result_type=CycleState,
        rpc_timeout=_timeout(resources.settings),
    )
    return CycleStateOut(state=state)


# --- operations ---------------------------------------------------------------------------


@router.get(
    "/cycles",
    response_model=Page[OpsCycleOut],
    summary="Every customer's cycles from the read model, newest first (ops)",
    responses={**AUTH_ERRORS, **VALIDATION_ERROR},
    tags=["ops"],
)
async def list_cycles(
    _ops: OpsDep,
    session: SessionDep,
    resources: ResourcesDep,
    page: PageRequestDep,
    status_: Annotated[
        CycleStatus | None,
        Query(alias="status", description="Only cycles in this status"),
    ] = None,
    customer_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this customer", examples=[1])
    ] = None,
) -> Page[OpsCycleOut]:
    result = await cycles_repo.list_all_cycles(
        session, page, status=status_.value if status_ else None, customer_id=customer_id
    )
    settings = resources.settings
    return Page(
        items=[
            OpsCycleOut(
                id=row.id,
                customer_id=row.customer_id,
                workflow_id=row.workflow_id,
                run_id=row.run_id,
                status=row.status,
                recommendation_version=row.recommendation_version,
                order_id=row.order_id,
                detail=row.detail,
                started_at=row.started_at,
                updated_at=row.updated_at,
                finished_at=row.finished_at,
                temporal_ui_url=temporal_ui_url(settings, row.workflow_id, row.run_id),
            )
            for row in result.items
        ],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


CycleIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Cycle id (read model)")]


async def _ops_decision(
    update: str,
    cycle_id: int,
    body: OpsActionBody,
    ops_actor: str,
    session: AsyncSession,
    resources: ResourcesDep,
) -> CycleStateOut:
    row = await cycles_repo.get_cycle_by_id(session, cycle_id)
    if row is None:
        raise NotFound(f"cycle {cycle_id} not found", field="cycle_id")
    customer_id, run_id = row.customer_id, row.run_id
    await release(session)
    client = await resources.temporal.get()
    state = await send_update(
        client,
        customer_id,
        update,
        OpsRequest(actor=ops_actor, reason=body.reason),
        result_type=CycleState,
        run_id=run_id,
        rpc_timeout=_timeout(resources.settings),
    )
    return CycleStateOut(state=state)


@router.post(
    "/cycles/{cycle_id}/retry",
    response_model=CycleStateOut,
    summary="Retry a failed submission after fixing its cause (ops)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT, **PENDING, **UNAVAILABLE},
    tags=["ops"],
)
async def retry(
    cycle_id: CycleIdPath,
    ops: OpsDep,
    session: SessionDep,
    resources: ResourcesDep,
    body: OpsActionBody | None = None,
) -> CycleStateOut:
    return await _ops_decision(
        names.RETRY, cycle_id, body or OpsActionBody(), ops.actor, session, resources
    )


@router.post(
    "/cycles/{cycle_id}/cancel",
    response_model=CycleStateOut,
    summary="Cancel a failed submission's orders and end the cycle (ops)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT, **PENDING, **UNAVAILABLE},
    tags=["ops"],
)
async def cancel(
    cycle_id: CycleIdPath,
    ops: OpsDep,
    session: SessionDep,
    resources: ResourcesDep,
    body: OpsActionBody | None = None,
) -> CycleStateOut:
    return await _ops_decision(
        names.CANCEL, cycle_id, body or OpsActionBody(), ops.actor, session, resources
    )
