"""Starting reorder cycles and sending them decisions, for the API, schedules and CLI.

One open cycle per customer: the workflow id is derived from the customer and a start while
one is open returns the open one (Temporal's USE_EXISTING conflict policy enforces it).
Update refusals come back as `Conflict` (409), an unreachable Temporal as 503.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

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
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.cycle_models import CycleInput, CyclePolicy, CycleState, CycleStatus
from core.errors import Conflict, DependencyUnavailable, NotFound
from core.temporal import CUSTOMER_ID, CYCLE_STATUS
from store.models import CustomerSettings
from workflows.reorder_cycle import ReorderCycle

T = TypeVar("T")


def cycle_workflow_id(customer_id: int) -> str:
    return f"reorder-cycle-{customer_id}"


def cycle_policy(settings: CustomerSettings) -> CyclePolicy:
    """The waiting policy from the customer's stored settings."""
    grace = timedelta(hours=settings.auto_approve_after_hours)
    return CyclePolicy(
        remind_every=timedelta(hours=settings.reminder_hours),
        expire_after=timedelta(hours=settings.approval_timeout_hours),
        auto_approve_urgent_after=grace if settings.auto_approve else None,
    )


class StartedCycle(BaseModel):
    workflow_id: str
    run_id: str
    started: bool = True  # False: the customer's open cycle was returned instead


async def start_cycle(
    client: Client,
    *,
    customer_id: int,
    customer_name: str,
    task_queue: str,
    policy: CyclePolicy | None = None,
    started_by: str = "api",
) -> StartedCycle:
    """Start the customer's cycle now, or return the one that is open."""
    workflow_id = cycle_workflow_id(customer_id)
    try:
        handle = await client.start_workflow(
            ReorderCycle.run,
            CycleInput(
                customer_id=customer_id,
                customer_name=customer_name,
                policy=policy or CyclePolicy(),
                started_by=started_by,
            ),
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CUSTOMER_ID, str(customer_id)),
                    SearchAttributePair(CYCLE_STATUS, CycleStatus.SYNCING.value),
                ]
            ),
            memo={"customer_name": customer_name, "customer_id": customer_id},
            static_summary=f"Reorder cycle for {customer_name}",
        )
    except RPCError as err:
        raise _rpc_error(err, workflow_id) from err
    # The start response says whether this call started the run or found the open one.
    response = getattr(handle, "_start_workflow_response", None)
    started = bool(getattr(response, "started", True))
    return StartedCycle(workflow_id=workflow_id, run_id=handle.result_run_id or "", started=started)


def cycle_handle(
    client: Client, customer_id: int, run_id: str | None = None
) -> WorkflowHandle[ReorderCycle, CycleState]:
    return client.get_workflow_handle_for(
        ReorderCycle.run, cycle_workflow_id(customer_id), run_id=run_id
    )


async def cycle_status(client: Client, customer_id: int) -> CycleState:
    handle = cycle_handle(client, customer_id)
    try:
        return await handle.query(ReorderCycle.status)
    except RPCError as err:
        raise _rpc_error(err, handle.id) from err


async def send_update(
    client: Client,
    customer_id: int,
    update: Any,
    request: BaseModel,
    *,
    update_id: str | None = None,
    run_id: str | None = None,
    rpc_timeout: timedelta | None = None,
) -> Any:
    """Run an Update on the customer's open cycle (or that run of it); a refusal becomes
    `Conflict`, no answer within `rpc_timeout` (no worker?) `DependencyUnavailable`."""
    handle = cycle_handle(client, customer_id, run_id)
    try:
        return await handle.execute_update(update, request, id=update_id, rpc_timeout=rpc_timeout)
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise DependencyUnavailable(
            "temporal", f"cycle {handle.id} did not answer in time; is a worker running?"
        ) from err
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "CycleRefused":
            raise Conflict(cause.message, code="cycle_refused") from err
        raise Conflict(f"the cycle did not take the decision: {cause}") from err
    except RPCError as err:
        raise await _update_rpc_error(handle, err) from err


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
