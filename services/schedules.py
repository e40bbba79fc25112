"""Temporal Schedules that start each customer's cycles on its cadence.

One schedule per customer, id `cycle-schedule-<customer_id>`: weekly on the customer's weekday
and hour in its time zone (Temporal calendars understand time zones and DST). Cadences of
several weeks fire weekly and the started activity skips the weeks in between (see
`services.reviews.cadence_week`). Disabling cycles pauses the schedule, so its
history stays visible in the Temporal UI. Synced when ops change the settings and by
`restock schedules sync`.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError

from core.errors import DependencyUnavailable
from store import customer_settings as settings_repo
from store.models import Customer, CustomerSettings
from workflows.contract import names
from workflows.contract.schedule import ScheduledStartInput

# If Temporal was down at the scheduled time, still start within this window.
CATCHUP_WINDOW = timedelta(hours=12)
DEFAULT_JITTER = timedelta(minutes=30)  # RESTOCK_SCHEDULE_JITTER_MINUTES
SCHEDULE_FIELDS = ("cycles_enabled", "cadence_weeks", "cycle_weekday", "cycle_hour", "timezone")


class ScheduleOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class ScheduleSync(BaseModel):
    customer_id: int
    schedule_id: str
    outcome: ScheduleOutcome
    paused: bool


SCHEDULE_PREFIX = "cycle-schedule-"


def schedule_id(customer_id: int) -> str:
    return f"{SCHEDULE_PREFIX}{customer_id}"


def schedule_spec(
    settings: CustomerSettings, timezone: str, jitter: timedelta = DEFAULT_JITTER
) -> ScheduleSpec:
    """Weekly at the customer's local weekday and hour (ours: 0 = Monday; Temporal's: 0 =
    Sunday), each start delayed by up to `jitter` (Temporal spreads it per schedule), so the
    customers due at 06:00 do not all call the ERP in the same second."""
    return ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                second=[ScheduleRange(0)],
                minute=[ScheduleRange(0)],
                hour=[ScheduleRange(settings.cycle_hour)],
                day_of_week=[ScheduleRange((settings.cycle_weekday + 1) % 7)],
                comment=f"every {settings.cadence_weeks} week(s)",
            )
        ],
        time_zone_name=timezone,
        jitter=jitter if jitter > timedelta(0) else None,
    )


def build_schedule(
    customer: Customer,
    settings: CustomerSettings,
    task_queue: str,
    jitter: timedelta = DEFAULT_JITTER,
) -> Schedule:
    paused = not settings.cycles_enabled
    return Schedule(
        action=ScheduleActionStartWorkflow(
            names.SCHEDULED_CYCLE_START,
            ScheduledStartInput(customer_id=customer.id),
            id=f"scheduled-cycle-start-{customer.id}",
            task_queue=task_queue,
            static_summary=f"Scheduled start of {customer.name}'s reorder cycle",
        ),
        spec=schedule_spec(settings, customer.timezone, jitter),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(
            paused=paused,
            note="cycles disabled in the customer's settings"
            if paused
            else f"reorder cycles for {customer.name}",
        ),
    )


async def sync_schedule(
    client: Client,
    customer: Customer,
    settings: CustomerSettings,
    *,
    task_queue: str,
    jitter: timedelta = DEFAULT_JITTER,
) -> ScheduleSync:
    """Create or update the customer's schedule to match its settings (idempotent)."""
    sid = schedule_id(customer.id)
    schedule = build_schedule(customer, settings, task_queue, jitter)
    paused = schedule.state.paused
    try:
        try:
            await client.create_schedule(sid, schedule)
            outcome = ScheduleOutcome.CREATED
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            handle = client.get_schedule_handle(sid)
            await handle.update(replace)
            # An update keeps the running state; pausing is its own call.
            if paused:
                await handle.pause(note=schedule.state.note)
            else:
                await handle.unpause(note=schedule.state.note)
            outcome = ScheduleOutcome.UPDATED
    except RPCError as err:
        raise DependencyUnavailable("temporal", f"schedule {sid}: {err.message}") from err
    return ScheduleSync(customer_id=customer.id, schedule_id=sid, outcome=outcome, paused=paused)


async def delete_schedule(client: Client, customer_id: int) -> bool:
    """Remove the customer's schedule; False if it had none."""
    try:
        await client.get_schedule_handle(schedule_id(customer_id)).delete()
    except RPCError as err:
        if "not found" in err.message.lower():
            return False
        raise DependencyUnavailable("temporal", err.message) from err
    return True


async def sync_all(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    *,
    task_queue: str,
    jitter: timedelta = DEFAULT_JITTER,
) -> list[ScheduleSync]:
    """Bring every customer's schedule in line with its settings, and remove the schedules
    of customers that are no longer in the database."""
    results: list[ScheduleSync] = []
    async with sessions() as session, session.begin():
        customers = list(await session.scalars(select(Customer).order_by(Customer.id)))
        rows = [(c, await settings_repo.get_or_create(session, c.id)) for c in customers]
    for customer, row in rows:
        results.append(
            await sync_schedule(client, customer, row, task_queue=task_queue, jitter=jitter)
        )
    results += await delete_orphans(client, {c.id for c in customers}, task_queue=task_queue)
    return results


async def delete_orphans(client: Client, known: set[int], *, task_queue: str) -> list[ScheduleSync]:
    """Delete cycle schedules of unknown customers. Only schedules that start work on our task
    queue: another deployment (or test) sharing the namespace keeps its own."""
    removed: list[ScheduleSync] = []
    try:
        listed = [s.id async for s in await client.list_schedules()]
        for sid in listed:
            customer_id = _customer_of(sid)
            if customer_id is None or customer_id in known:
                continue
            description = await client.get_schedule_handle(sid).describe()
            action = description.schedule.action
            if not isinstance(action, ScheduleActionStartWorkflow):
                continue
            if action.task_queue != task_queue:
                continue
            if await delete_schedule(client, customer_id):
                paused = description.schedule.state.paused
                removed.append(
                    ScheduleSync(
                        customer_id=customer_id,
                        schedule_id=sid,
                        outcome=ScheduleOutcome.DELETED,
                        paused=paused,
                    )
                )
    except RPCError as err:
        raise DependencyUnavailable("temporal", f"listing schedules: {err.message}") from err
    return removed


def _customer_of(sid: str) -> int | None:
    suffix = sid.removeprefix(SCHEDULE_PREFIX)
    return int(suffix) if sid.startswith(SCHEDULE_PREFIX) and suffix.isdigit() else None
