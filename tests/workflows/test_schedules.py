"""Cycle schedules on the dev server: `sync_all` creates them from the settings, a settings
change through the API updates them, disabling pauses them, and a triggered schedule starts
the customer's cycle — once, however often it fires while the cycle is open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import delete
from temporalio.client import (
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    WorkflowFailureError,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.notifier import LogNotifier
from api.auth import tokens
from core.settings import Settings
from services.reviews import cadence_week
from services.schedules import schedule_id, sync_all, sync_schedule
from store import customer_settings as settings_repo
from store.db import unit_of_work
from store.models import Customer, Role
from tests.api.conftest import add_user, bearer
from tests.workflows.conftest import CycleStack
from webapp import create_app
from worker import running_worker
from workflows.contract import names
from workflows.contract.cycle import CycleStatus
from workflows.contract.schedule import ScheduledStartInput, ScheduledStartResult
from workflows.scheduled_start import ScheduledCycleStart


@pytest.fixture
async def cleanup_schedules(cycle_stack: CycleStack) -> AsyncIterator[list[int]]:
    """Customer ids whose schedules the test made; deleted afterwards (the dev server is
    shared by the whole session)."""
    customer_ids: list[int] = []
    yield customer_ids
    for customer_id in customer_ids:
        await cycle_stack.client.get_schedule_handle(schedule_id(customer_id)).delete()


async def _describe(stack: CycleStack, customer_id: int) -> ScheduleDescription:
    return await stack.client.get_schedule_handle(schedule_id(customer_id)).describe()


def _calendar(described: ScheduleDescription) -> tuple[int, int, str | None]:
    [calendar] = described.schedule.spec.calendars
    [weekday] = calendar.day_of_week
    [hour] = calendar.hour
    return weekday.start, hour.start, described.schedule.spec.time_zone_name


async def _finished_starts(
    stack: CycleStack, customer_id: int, count: int
) -> list[ScheduledStartResult]:
    """The results of the schedule's first `count` actions, once they have finished."""
    for _ in range(300):
        actions = (await _describe(stack, customer_id)).info.recent_actions
        if len(actions) >= count:
            results = []
            for action in actions[:count]:
                assert isinstance(action.action, ScheduleActionExecutionStartWorkflow)
                handle = stack.client.get_workflow_handle_for(
                    ScheduledCycleStart.run,
                    action.action.workflow_id,
                    run_id=action.action.first_execution_run_id,
                )
                results.append(await handle.result())
            return results
        await asyncio.sleep(0.1)
    raise AssertionError(f"the schedule never ran {count} action(s)")


async def test_sync_creates_settings_update_disable_pauses_and_trigger_starts_once(
    cycle_stack: CycleStack, cleanup_schedules: list[int]
) -> None:
    berlin, _ = await cycle_stack.new_customer(cycle_weekday=1, cycle_hour=7)
    other, _ = await cycle_stack.new_customer(cycles_enabled=False)
    cleanup_schedules.extend([berlin, other])

    synced = await sync_all(
        cycle_stack.client, cycle_stack.sessions, task_queue=cycle_stack.task_queue
    )
    outcomes = {s.customer_id: s for s in synced}
    assert set(outcomes) == {berlin, other}
    assert outcomes[other].paused and not outcomes[berlin].paused
    described = await _describe(cycle_stack, berlin)
    assert _calendar(described) == (2, 7, "UTC")  # Tuesday (Temporal: 0 = Sunday), 07:00
    # Customers due at the same hour start spread over the jitter window.
    assert described.schedule.spec.jitter == timedelta(minutes=30)
    assert not described.schedule.state.paused
    assert (await _describe(cycle_stack, other)).schedule.state.paused
    # Syncing again changes nothing but says so.
    again = await sync_all(
        cycle_stack.client, cycle_stack.sessions, task_queue=cycle_stack.task_queue
    )
    assert {s.outcome.value for s in again} == {"updated"}
    assert _calendar(await _describe(cycle_stack, berlin)) == (2, 7, "UTC")
    on_the_hour = await sync_all(
        cycle_stack.client,
        cycle_stack.sessions,
        task_queue=cycle_stack.task_queue,
        jitter=timedelta(0),
    )
    assert {s.outcome.value for s in on_the_hour} == {"updated"}
    assert not (await _describe(cycle_stack, berlin)).schedule.spec.jitter

    # Ops change the cadence through the API: the schedule follows.
    ops = bearer(
        tokens.issue(
            cycle_stack.settings, await add_user(cycle_stack.sessions, "ops", Role.OPS)
        ).token
    )
    app = create_app(cycle_stack.settings)
    url = f"/api/customers/{berlin}/settings"
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        values = (await http.get(url, headers=ops)).json()
        changed = {**values, "timezone": "Europe/Berlin", "cycle_weekday": 4, "cycle_hour": 5}
        assert (await http.put(url, headers=ops, json=changed)).status_code == 200
        assert _calendar(await _describe(cycle_stack, berlin)) == (5, 5, "Europe/Berlin")
        disabled = {**changed, "cycles_enabled": False}
        assert (await http.put(url, headers=ops, json=disabled)).status_code == 200
        assert (await _describe(cycle_stack, berlin)).schedule.state.paused
        assert (await http.put(url, headers=ops, json=changed)).status_code == 200
        assert not (await _describe(cycle_stack, berlin)).schedule.state.paused

    # Firing the schedule starts the customer's cycle under its own id.
    handle = cycle_stack.client.get_schedule_handle(schedule_id(berlin))
    await handle.trigger()
    [first] = await _finished_starts(cycle_stack, berlin, 1)
    assert first.started and first.workflow_id == f"reorder-cycle-{berlin}"
    state = await cycle_stack.wait_for(berlin, CycleStatus.AWAITING_APPROVAL)
    assert state.customer_name.startswith("Customer W-")  # the stored name, not a test's
    # Firing again while that cycle is open finds it instead of starting a second one.
    await handle.trigger()
    _, second = await _finished_starts(cycle_stack, berlin, 2)
    assert not second.started and second.run_id == first.run_id
    query = (
        f'WorkflowType="ReorderCycle" AND CustomerId="{berlin}" '
        f'AND TaskQueue="{cycle_stack.task_queue}"'
    )
    runs = [w.run_id async for w in cycle_stack.client.list_workflows(query)]
    assert runs == [first.run_id]


def test_cadence_weeks_pick_every_nth_week() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(6)]
    assert [cadence_week(d, 1) for d in mondays] == [True] * 6
    picked = [cadence_week(d, 2) for d in mondays]
    assert picked.count(True) == 3 and picked[0] != picked[1]
    assert [cadence_week(d, 3) for d in mondays].count(True) == 2


async def test_sync_removes_schedules_of_deleted_customers_on_its_own_queue_only(
    cycle_stack: CycleStack, cleanup_schedules: list[int]
) -> None:
    gone, _ = await cycle_stack.new_customer()
    elsewhere, _ = await cycle_stack.new_customer()
    await sync_all(cycle_stack.client, cycle_stack.sessions, task_queue=cycle_stack.task_queue)
    async with unit_of_work(cycle_stack.sessions) as session:
        customer = await session.get(Customer, elsewhere)
        assert customer is not None
        row = await settings_repo.get_or_create(session, elsewhere)
    # The same customer id scheduled by another deployment sharing the namespace.
    await sync_schedule(cycle_stack.client, customer, row, task_queue="another-deployment")
    cleanup_schedules.append(elsewhere)
    async with unit_of_work(cycle_stack.sessions) as session:
        for customer_id in (gone, elsewhere):
            await session.execute(delete(Customer).where(Customer.id == customer_id))

    deleted: list[int] = []
    for _ in range(100):  # listing schedules is eventually consistent
        synced = await sync_all(
            cycle_stack.client, cycle_stack.sessions, task_queue=cycle_stack.task_queue
        )
        deleted += [s.customer_id for s in synced if s.outcome.value == "deleted"]
        if gone in deleted:
            break
        await asyncio.sleep(0.1)
    assert deleted == [gone]
    with pytest.raises(RPCError):
        await _describe(cycle_stack, gone)
    kept = await _describe(cycle_stack, elsewhere)
    assert isinstance(kept.schedule.action, ScheduleActionStartWorkflow)
    assert kept.schedule.action.task_queue == "another-deployment"


async def test_a_scheduled_review_that_cannot_start_fails_and_ops_are_told(
    time_skipping_env: WorkflowEnvironment, app_settings: Settings, task_queue: str
) -> None:
    """Six hours of a database that does not answer (skipped through): the review fails
    visibly in Temporal and ops hear of it, instead of a silent skip."""
    settings = app_settings.model_copy(
        update={
            "database_url": "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",
            "temporal_task_queue": task_queue,
        }
    )
    notifier = LogNotifier()
    client = time_skipping_env.client
    async with running_worker(settings, client, task_queue=task_queue, notifier=notifier):
        handle = await client.start_workflow(
            names.SCHEDULED_CYCLE_START,
            ScheduledStartInput(customer_id=7),
            id=f"scheduled-cycle-start-7-{task_queue}",
            task_queue=task_queue,
            result_type=ScheduledStartResult,
        )
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        for _ in range(100):
            if notifier.sent:
                break
            await asyncio.sleep(0.1)
    [message] = notifier.sent
    assert message.to == [settings.ops_email]
    assert message.subject == "Scheduled review of customer 7 failed"
