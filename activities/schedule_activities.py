"""The activity behind a customer's cycle schedule: start the customer's cycle (or find the
open one), with the policy its settings give now.

A Temporal Schedule cannot start a workflow under a fixed id (it appends the time), so the
schedule runs `ScheduledCycleStart`, whose activity starts `reorder-cycle-<customer>` through
`services.cycle_control.start_cycle`: at most one open cycle per customer, however the cycle
was started.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.settings import Settings
from services.cycle_control import cycle_policy, start_cycle
from store import customer_settings as settings_repo
from store.models import Customer

# Cadences of several weeks count weeks from this Monday, so "every 2 weeks" is stable.
CADENCE_EPOCH = date(2024, 1, 1)


class ScheduledStartInput(BaseModel):
    customer_id: int


class ScheduledStartRequest(BaseModel):
    customer_id: int
    scheduled_at: datetime


class ScheduledStartResult(BaseModel):
    customer_id: int
    started: bool
    workflow_id: str | None = None
    run_id: str | None = None
    skipped: str | None = None


def cadence_week(day: date, cadence_weeks: int) -> bool:
    """Whether `day` falls in a week the customer's cadence starts a cycle in."""
    return ((day - CADENCE_EPOCH).days // 7) % max(cadence_weeks, 1) == 0


class ScheduleActivities:
    def __init__(self, *, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._settings = settings
        self._sessions = sessions

    @activity.defn(name="start_scheduled_cycle")
    async def start_scheduled_cycle(self, request: ScheduledStartRequest) -> ScheduledStartResult:
        async with self._sessions() as session, session.begin():
            customer = await session.get(Customer, request.customer_id)
            if customer is None:
                return ScheduledStartResult(
                    customer_id=request.customer_id, started=False, skipped="no such customer"
                )
            row = await settings_repo.get_or_create(session, customer.id)
            name, timezone = customer.name, customer.timezone
            enabled, cadence = row.cycles_enabled, row.cadence_weeks
            policy = cycle_policy(row)
        if not enabled:
            return ScheduledStartResult(
                customer_id=request.customer_id, started=False, skipped="cycles disabled"
            )
        local_day = request.scheduled_at.astimezone(ZoneInfo(timezone)).date()
        if not cadence_week(local_day, cadence):
            return ScheduledStartResult(
                customer_id=request.customer_id,
                started=False,
                skipped=f"not a cycle week (every {cadence} weeks)",
            )
        started = await start_cycle(
            activity.client(),
            customer_id=request.customer_id,
            customer_name=name,
            task_queue=self._settings.temporal_task_queue,
            policy=policy,
            started_by="schedule",
        )
        return ScheduledStartResult(
            customer_id=request.customer_id,
            started=started.started,
            workflow_id=started.workflow_id,
            run_id=started.run_id,
        )
