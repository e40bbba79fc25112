"""Faults in the loop's long-lived parts, each reporting its figures: the ERP down during a
refresh (the cycle stays decidable and sleeps meanwhile), the mail server down through a whole
cycle (orders land; the failure is audited and the message sent once it is back), and a long
shipment continuing as new without losing its state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

from activities.notifier import SmtpNotifier
from core.errors import DependencyUnavailable
from core.settings import Settings
from services.cycle_control import cycle_handle, send_update
from store.models import AuditEntry
from tests.activities.test_notifier import Inbox
from tests.plugins.erp_sim import ErpSim
from tests.plugins.ports import free_port
from tests.workflows.conftest import FAST_POLICY, CycleStack, terminate_open_workflows
from worker import running_worker
from workflows.contract import names
from workflows.contract.cycle import ApproveRequest, CycleStatus, RefreshRequest
from workflows.contract.shipment import ShipmentState, ShipmentStatus

Figure = Callable[..., dict[str, Any]]
REFRESH_BUDGET = timedelta(seconds=3)


async def _waiting(stack: CycleStack, **policy: Any) -> tuple[int, str, int]:
    customer_id, erp_code = await stack.new_customer()
    await stack.start(customer_id, FAST_POLICY.model_copy(update=policy))
    state = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None
    return customer_id, erp_code, state.recommendation.version


async def test_erp_down_during_a_refresh_leaves_the_cycle_decidable(
    cycle_stack: CycleStack, figure: Figure
) -> None:
    customer_id, erp_code, version = await _waiting(cycle_stack, refresh_sync_for=REFRESH_BUDGET)
    loop = asyncio.get_running_loop()
    with cycle_stack.erp_sim.faults(error_rate=1.0):
        started = loop.time()
        with pytest.raises(DependencyUnavailable) as refused:
            await send_update(
                cycle_stack.client, customer_id, names.REFRESH, RefreshRequest(actor="buyer")
            )
        failed_after = loop.time() - started
    assert refused.value.component == "erp"
    assert f"v{version} still waits" in refused.value.detail
    state = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None and state.recommendation.version == version
    # Decidable: the version that waited is approved, and lands once.
    result = await send_update(
        cycle_stack.client,
        customer_id,
        names.APPROVE,
        ApproveRequest(version=version, actor="buyer"),
    )
    assert all(o.erp_order_number for o in result.orders)
    assert len(await cycle_stack.submissions(erp_code)) == len(result.orders)

    # While the refresh ran the wait slept: no timer woke it (the cycle of old woke every
    # second); only the deadline of the recommendation that waits again may be set.
    history = await cycle_handle(cycle_stack.client, customer_id).fetch_history()
    refresh_at = next(
        i
        for i, e in enumerate(history.events)
        if e.HasField("workflow_execution_update_accepted_event_attributes")
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == names.REFRESH
    )
    window = []
    for event in history.events[refresh_at:]:
        if event.HasField("workflow_execution_update_completed_event_attributes"):
            break
        window.append(event)
    timers = [
        e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for e in window
        if e.HasField("timer_started_event_attributes")
    ]
    assert all(t > timedelta(minutes=1) for t in timers), timers
    assert len(timers) <= 1, timers
    async with cycle_stack.sessions() as session:
        details = list(
            await session.scalars(
                select(AuditEntry.details["detail"].as_string()).where(
                    AuditEntry.customer_id == customer_id,
                    AuditEntry.action == "cycle.awaiting_approval",
                )
            )
        )
    assert any(d and "refresh failed" in d for d in details), details
    figure(
        refresh_budget_s=REFRESH_BUDGET.total_seconds(),
        refresh_refused_after_s=round(failed_after, 1),
        answer=type(refused.value).__name__,
        version_kept=version,
        timers_while_refreshing=len(timers),
        erp_orders_after_approval=len(result.orders),
    )


@pytest.fixture
async def smtp_stack(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    erp_sim: ErpSim,
    task_queue: str,
) -> AsyncIterator[tuple[CycleStack, int]]:
    """A worker whose notifier is SMTP to a port where, at first, nothing listens."""
    port = free_port()
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
    )
    notifier = SmtpNotifier(host="127.0.0.1", port=port, sender="restock@example.test", timeout=2)
    async with running_worker(settings, temporal_client, task_queue=task_queue, notifier=notifier):
        stack = CycleStack(temporal_client, settings, sessions, task_queue, erp_sim, None)  # type: ignore[arg-type]
        yield stack, port
    await terminate_open_workflows(temporal_client, task_queue)


async def _poll(check: Callable[[], Any], what: str, attempts: int = 300) -> Any:
    for _ in range(attempts):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"never saw {what}")


async def _audited(stack: CycleStack, customer_id: int, action: str) -> list[AuditEntry]:
    async with stack.sessions() as session:
        return list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.customer_id == customer_id, AuditEntry.action == action
                )
            )
        )


async def test_smtp_down_through_a_whole_cycle_orders_land_and_failures_are_audited(
    smtp_stack: tuple[CycleStack, int], figure: Figure
) -> None:
    stack, port = smtp_stack
    customer_id, erp_code, version = await _waiting(stack)

    async def ready_failed() -> list[AuditEntry]:
        entries = await _audited(stack, customer_id, "notification.failed")
        return [e for e in entries if e.details["kind"] == "ready"]

    # The buyer hears of the recommendation (the first attempt fails and is audited) ...
    await _poll(ready_failed, "the ready message's failure audited")
    result = await send_update(
        stack.client, customer_id, names.APPROVE, ApproveRequest(version=version, actor="buyer")
    )
    done = await cycle_handle(stack.client, customer_id).result()
    assert done.status is CycleStatus.SUBMITTED
    assert len(await stack.submissions(erp_code)) == len(result.orders)

    async def both_failed() -> list[AuditEntry]:
        entries = await _audited(stack, customer_id, "notification.failed")
        return entries if len(entries) >= 2 else []  # "ready" and "order placed"

    failed = await _poll(both_failed, "the order-placed message's failure audited")
    kinds = sorted(e.details["kind"] for e in failed)
    assert {"ready", "submitted"} <= set(kinds), kinds
    assert all(e.details["retrying"] and e.details["error"] for e in failed)
    # The messages keep trying in their own workflows; the cycle did not wait for them.
    run = (await cycle_handle(stack.client, customer_id).describe()).run_id
    notices = [
        stack.client.get_workflow_handle(names.notification_workflow_id(done.workflow_id, run, n))
        for n in (1, 2)
    ]
    statuses = [(await h.describe()).status for h in notices]
    assert statuses == [WorkflowExecutionStatus.RUNNING] * 2, statuses

    # The mail server comes back: each message is sent by its next retry, and audited.
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        outcomes = [await h.result() for h in notices]
    finally:
        controller.stop()
    assert [o["delivered"] for o in outcomes] == [True, True]
    subjects = sorted(mail["Subject"] for _, mail in inbox.messages)
    assert any("to approve" in s for s in subjects) and any("Order placed" in s for s in subjects)
    sent = await _audited(stack, customer_id, "notification.sent")
    assert {e.details["kind"] for e in sent} >= {"ready", "submitted"}
    assert all(e.details["attempts"] >= 2 for e in sent)
    figure(
        cycle=done.status.value,
        erp_orders=len(result.orders),
        failures_audited=len(failed),
        delivered_after_smtp_back=len(inbox.messages),
        attempts=sorted(e.details["attempts"] for e in sent),
    )


async def test_a_long_shipment_continues_as_new_and_keeps_its_state(
    cycle_stack: CycleStack, figure: Figure
) -> None:
    customer_id, erp_code, version = await _waiting(
        cycle_stack,
        shipment_continue_after_events=50,
        track_poll_initial=timedelta(milliseconds=200),
        track_poll_max=timedelta(milliseconds=300),
    )
    await send_update(
        cycle_stack.client,
        customer_id,
        names.APPROVE,
        ApproveRequest(version=version, actor="buyer"),
    )
    done = await cycle_handle(cycle_stack.client, customer_id).result()
    order = done.orders[0]
    assert order.shipment_workflow_id and order.erp_order_number
    async with cycle_stack.admin() as admin:
        moved = await admin.post(
            f"/admin/customers/{erp_code}/orders/{order.erp_order_number}/delay",
            json={"days": 5},
        )
    moved.raise_for_status()
    for _ in range(600):
        state = await cycle_stack.shipment(order.shipment_workflow_id)
        if state.runs >= 2 and state.status is ShipmentStatus.LATE:
            break
        await asyncio.sleep(0.1)
    assert state.runs >= 2, state
    assert state.late and state.eta_changes == 1 and state.promised_eta == order.eta
    await cycle_stack.advance_erp(days=7 * 12)
    handle = cycle_stack.client.get_workflow_handle(
        order.shipment_workflow_id, result_type=ShipmentState
    )
    final = await handle.result()
    assert final.status is ShipmentStatus.DELIVERED and final.late
    assert final.eta_changes == 1 and final.checks > 0
    history = await handle.fetch_history()  # the last run's
    assert len(history.events) < 120, len(history.events)
    figure(
        runs=final.runs,
        checks=final.checks,
        events_in_last_run=len(history.events),
        continue_after_events=50,
    )
