"""Starting reorder cycles and sending them decisions, for the API, schedules and CLI.

One open cycle per customer: the workflow id is derived from the customer, and a start while
one is open finds the open one instead. A review on cadence that finds a cycle open hands it
the `review` Update (refresh it, remind ops, or leave it). Workflows are addressed by name
through their contract (`workflows.contract`), never through their definitions. Update
refusals come back as `Conflict` (409), an unreachable Temporal as 503.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar, overload

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import Conflict, DependencyUnavailable, NotFound, Pending
from core.temporal import CUSTOMER_ID, CYCLE_STATUS, ERP_CUSTOMER
from store.models import CustomerSettings
from workflows.contract import names
from workflows.contract.cycle import (
    UPDATE_RESULTS,
    CycleInput,
    CyclePolicy,
    CycleState,
    CycleStatus,
    ReviewOutcome,
    ReviewRequest,
)
from workflows.contract.names import cycle_workflow_id

T = TypeVar("T")
# A review that found the open cycle closing on its way tries a new start this often.
REVIEW_ATTEMPTS = 3


def cycle_policy(settings: CustomerSettings) -> CyclePolicy:
    """The waiting policy from the customer's stored settings."""
    grace = timedelta(hours=settings.auto_approve_after_hours)
    return CyclePolicy(
        remind_every=timedelta(hours=settings.reminder_hours),
        expire_after=timedelta(hours=settings.approval_timeout_hours),
        auto_approve_urgent_after=grace if settings.auto_approve else None,
        auto_approve_max_containers=settings.auto_approve_max_containers,
        auto_approve_max_cartons=settings.auto_approve_max_cartons,
        auto_approve_max_value=None
        if settings.auto_approve_max_value is None
        else Decimal(settings.auto_approve_max_value),
    )


class StartedCycle(BaseModel):
    workflow_id: str
    run_id: str
    started: bool = True  # False: the customer's open cycle was returned instead


class ReviewStarted(BaseModel):
    """What a review on cadence did: started a cycle, or reviewed the open one."""

    workflow_id: str
    run_id: str
    action: str  # started | refreshed | skipped
    reason: str = ""
    version: int | None = None


async def start_cycle(
    client: Client,
    *,
    customer_id: int,
    customer_name: str,
    task_queue: str,
    policy: CyclePolicy | None = None,
    started_by: str = "api",
    erp_customer: str | None = None,
) -> StartedCycle:
    """Start the customer's cycle now, or return the one that is open."""
    workflow_id = cycle_workflow_id(customer_id)
    attributes = [
        SearchAttributePair(CUSTOMER_ID, str(customer_id)),
        SearchAttributePair(CYCLE_STATUS, CycleStatus.SYNCING.value),
    ]
    if erp_customer:
        attributes.append(SearchAttributePair(ERP_CUSTOMER, erp_customer))
    try:
        handle = await client.start_workflow(
            names.REORDER_CYCLE,
            CycleInput(
                customer_id=customer_id,
                customer_name=customer_name,
                policy=policy or CyclePolicy(),
                started_by=started_by,
                erp_customer=erp_customer,
            ),
            id=workflow_id,
            task_queue=task_queue,
            result_type=CycleState,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=TypedSearchAttributes(attributes),
            memo={
                "customer_name": customer_name,
                "customer_id": customer_id,
                "erp_customer": erp_customer,
            },
            static_summary=f"Reorder cycle for {customer_name}",
        )
    except WorkflowAlreadyStartedError as err:
        return StartedCycle(workflow_id=workflow_id, run_id=err.run_id or "", started=False)
    except RPCError as err:
        raise _rpc_error(err, workflow_id) from err
    return StartedCycle(workflow_id=workflow_id, run_id=handle.result_run_id or "")


async def start_review(
    client: Client,
    *,
    customer_id: int,
    customer_name: str,
    task_queue: str,
    policy: CyclePolicy | None = None,
    started_by: str = "schedule",
    rpc_timeout: timedelta | None = None,
    erp_customer: str | None = None,
) -> ReviewStarted:
    """A review on the customer's cadence: a new cycle when none is open, else the open
    cycle's own review (it refreshes a recommendation still waiting, reminds ops of a failed
    submission, or leaves a busy cycle alone)."""
    for _ in range(REVIEW_ATTEMPTS):
        started = await start_cycle(
            client,
            customer_id=customer_id,
            customer_name=customer_name,
            task_queue=task_queue,
            policy=policy,
            started_by=started_by,
            erp_customer=erp_customer,
        )
        if started.started:
            return ReviewStarted(
                workflow_id=started.workflow_id, run_id=started.run_id, action="started"
            )
        try:
            outcome: ReviewOutcome = await send_update(
                client,
                customer_id,
                names.REVIEW,
                ReviewRequest(actor=started_by),
                result_type=ReviewOutcome,
                run_id=started.run_id or None,
                rpc_timeout=rpc_timeout,
            )
        except Conflict as err:
            if err.code == "cycle_closed":
                continue  # it closed between the start and the review: start anew
            raise
        return ReviewStarted(
            workflow_id=started.workflow_id,
            run_id=started.run_id,
            action=outcome.action,
            reason=outcome.reason,
            version=outcome.version,
        )
    raise Conflict(
        f"the cycle of customer {customer_id} kept closing and reopening; try again",
        code="cycle_busy",
    )


def cycle_handle(
    client: Client, customer_id: int, run_id: str | None = None
) -> WorkflowHandle[Any, CycleState]:
    return client.get_workflow_handle(
        cycle_workflow_id(customer_id), run_id=run_id, result_type=CycleState
    )


async def cycle_status(
    client: Client, customer_id: int, rpc_timeout: timedelta | None = None
) -> CycleState:
    handle = cycle_handle(client, customer_id)
    try:
        state: CycleState = await handle.query(
            names.STATUS, result_type=CycleState, rpc_timeout=rpc_timeout
        )
    except RPCError as err:
        raise _rpc_error(err, handle.id) from err
    return state


@overload
async def send_update(
    client: Client,
    customer_id: int,
    update: str,
    request: BaseModel,
    *,
    result_type: type[T],
    update_id: str | None = None,
    run_id: str | None = None,
    rpc_timeout: timedelta | None = None,
) -> T: ...


@overload
async def send_update(
    client: Client,
    customer_id: int,
    update: str,
    request: BaseModel,
    *,
    result_type: None = None,
    update_id: str | None = None,
    run_id: str | None = None,
    rpc_timeout: timedelta | None = None,
) -> Any: ...


async def send_update(
    client: Client,
    customer_id: int,
    update: str,
    request: BaseModel,
    *,
    result_type: type[Any] | None = None,
    update_id: str | None = None,
    run_id: str | None = None,
    rpc_timeout: timedelta | None = None,
) -> Any:
    """Run an Update (by name) on the customer's open cycle (or that run of it); the answer
    is of the Update's own type (`UPDATE_RESULTS`) unless `result_type` says otherwise. A
    refusal becomes `Conflict`, a refresh whose ERP sync failed `DependencyUnavailable`, no
    answer within `rpc_timeout` (no worker?) `DependencyUnavailable`."""
    handle = cycle_handle(client, customer_id, run_id)
    try:
        # `rpc_timeout` is the call's overall deadline: the SDK keeps polling for an
        # Update's outcome as long as no worker takes it.
        async with asyncio.timeout(None if rpc_timeout is None else rpc_timeout.total_seconds()):
            result = await handle.execute_update(
                update,
                request,
                id=update_id,
                result_type=result_type or UPDATE_RESULTS[update],
                rpc_timeout=rpc_timeout,
            )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise _pending(handle.id, update, update_id, rpc_timeout) from err
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "CycleRefused":
            raise Conflict(cause.message, code="cycle_refused") from err
        if isinstance(cause, ApplicationError) and cause.type == "RefreshFailed":
            raise DependencyUnavailable("erp", cause.message, public=cause.message) from err
        raise Conflict(f"the cycle did not take the decision: {cause}") from err
    except RPCError as err:
        raise await _update_rpc_error(handle, err) from err
    return result


def _pending(
    workflow_id: str, update: str, update_id: str | None, deadline: timedelta | None
) -> Pending:
    waited = f" within {deadline.total_seconds():g} s" if deadline else ""
    follow = (
        "send it again with the same Idempotency-Key for its outcome"
        if update_id
        else "see GET …/cycles/current for where the cycle stands"
    )
    return Pending(
        f"cycle {workflow_id} did not answer the {update}{waited} (is a worker running?). "
        f"It may still take effect: {follow}",
        code="decision_pending",
    )


async def _update_rpc_error(handle: WorkflowHandle[Any, Any], err: RPCError) -> Exception:
    """An Update that meets a cycle closing on its way gets NOT_FOUND whose wording depends
    on the timing; describing the workflow tells "closed" (409) from "never existed" (404)."""
    if err.status == RPCStatusCode.NOT_FOUND:
        try:
            description = await handle.describe()
        except RPCError:
            return _rpc_error(err, handle.id)
        if description.status is not WorkflowExecutionStatus.RUNNING:
            return Conflict(f"cycle {handle.id} is no longer open", code="cycle_closed")
    return _rpc_error(err, handle.id)


def rpc_error(err: RPCError, workflow_id: str) -> Exception:
    """A Temporal RPC failure as one of our errors (404, 409, 503), else unchanged."""
    return _rpc_error(err, workflow_id)


def _rpc_error(err: RPCError, workflow_id: str) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND and "already completed" in err.message:
        return Conflict(f"cycle {workflow_id} is no longer open", code="cycle_closed")
    if err.status == RPCStatusCode.NOT_FOUND:
        return NotFound(f"no cycle {workflow_id}")
    if err.status in (RPCStatusCode.FAILED_PRECONDITION,):
        return Conflict(
            f"cycle {workflow_id} is no longer open: {err.message}", code="cycle_closed"
        )
    if err.status in (
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,  # the client's rpc_timeout ran out ("Timeout expired")
    ):
        return DependencyUnavailable("temporal", err.message)
    return err
