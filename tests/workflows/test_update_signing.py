"""Temporal's side door: an Update sent straight to Temporal, not through Restock, is refused
before it is accepted, so a forged actor never reaches the workflow or the audit log."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import temporalio.api.common.v1
import temporalio.client
from sqlalchemy import select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from core.update_signing import HEADER, REFUSED, SignUpdates
from services.cycle_control import cycle_handle
from store.models import AuditEntry
from tests.workflows.conftest import CycleStack
from workflows.contract import names
from workflows.contract.cycle import (
    ApproveRequest,
    ApproveResult,
    CycleState,
    CycleStatus,
    RejectRequest,
)

pytestmark = pytest.mark.slow


async def _approvals(stack: CycleStack, customer_id: int) -> list[str]:
    async with stack.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.customer_id == customer_id,
                AuditEntry.action == "recommendation.approved",
            )
        )
        return list(rows)


async def test_an_update_with_a_forged_actor_is_refused(cycle_stack: CycleStack) -> None:
    customer_id, _ = await cycle_stack.new_customer()
    await cycle_stack.start(customer_id)
    waiting = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    forged = ApproveRequest(version=waiting.recommendation.version, actor="user:ops")
    address = cycle_stack.client.service_client.config.target_host
    outsiders = {
        "unsigned": await Client.connect(address, data_converter=pydantic_data_converter),
        "wrong key": await Client.connect(
            address,
            data_converter=pydantic_data_converter,
            interceptors=[SignUpdates(b"a key that is not Restock's")],
        ),
    }
    for who, outsider in outsiders.items():
        handle = outsider.get_workflow_handle(cycle_handle(cycle_stack.client, customer_id).id)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(names.APPROVE, forged, result_type=ApproveResult)
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == REFUSED, who
        assert "not signed by Restock" in str(cause)
    state = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.decision is None and state.orders == []
    assert await _approvals(cycle_stack, customer_id) == []
    # Through Restock's own (signing) client the same approval is taken, by its real caller.
    signed = await cycle_handle(cycle_stack.client, customer_id).execute_update(
        names.APPROVE,
        ApproveRequest(version=waiting.recommendation.version, actor="user:buyer"),
        result_type=ApproveResult,
    )
    assert signed.orders
    assert await _approvals(cycle_stack, customer_id) == ["user:buyer"]


class _Replaying(temporalio.client.Interceptor):
    """An outsider who copied a real signature out of a history and sends it again."""

    def __init__(self, copied: temporalio.api.common.v1.Payload) -> None:
        self.copied = copied

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        copied = self.copied

        class _Outbound(temporalio.client.OutboundInterceptor):
            async def start_workflow_update(
                self, input: temporalio.client.StartWorkflowUpdateInput
            ) -> temporalio.client.WorkflowUpdateHandle[Any]:
                headers = {**input.headers, HEADER: copied}
                return await super().start_workflow_update(replace(input, headers=headers))

        return _Outbound(next)


async def test_a_signature_copied_from_one_run_is_refused_by_the_next(
    cycle_stack: CycleStack,
) -> None:
    """Each cycle of a customer is a new run of the same workflow id: a signed reject read
    from the first run's history cannot reject the next cycle."""
    customer_id, _ = await cycle_stack.new_customer()
    await cycle_stack.start(customer_id)
    first = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert first.recommendation is not None
    reject = RejectRequest(version=1, reason="not now", actor="user:buyer")
    handle = cycle_handle(cycle_stack.client, customer_id)
    await handle.execute_update(names.REJECT, reject, id="reject-1", result_type=CycleState)
    history = await handle.fetch_history()
    [copied] = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.header.fields[
            HEADER
        ]
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    await cycle_stack.start(customer_id)  # the next cycle: a new run, same workflow id
    second = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert second.recommendation is not None
    address = cycle_stack.client.service_client.config.target_host
    replayer = await Client.connect(
        address, data_converter=pydantic_data_converter, interceptors=[_Replaying(copied)]
    )
    outsider = replayer.get_workflow_handle(handle.id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await outsider.execute_update(names.REJECT, reject, id="reject-1", result_type=CycleState)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == REFUSED
    state = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.status is CycleStatus.AWAITING_APPROVAL  # the second cycle still waits
