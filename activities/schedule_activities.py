"""The activity behind a customer's cycle Schedule: the customer's review on its cadence.

A Temporal Schedule cannot start a workflow under a fixed id (it appends the time), so the
schedule runs `ScheduledCycleStart`, whose activity starts `reorder-cycle-<customer>` or
reviews the open one (`services.reviews.scheduled_review`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.errors import temporal_errors
from core.settings import Settings
from services.reviews import scheduled_review
from workflows.contract.schedule import ScheduledStartRequest, ScheduledStartResult


class ScheduleActivities:
    def __init__(self, *, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._settings = settings
        self._sessions = sessions

    @activity.defn(name="start_scheduled_cycle")
    async def start_scheduled_cycle(self, request: ScheduledStartRequest) -> ScheduledStartResult:
        with temporal_errors():
            return await scheduled_review(
                activity.client(),
                self._sessions,
                customer_id=request.customer_id,
                scheduled_at=request.scheduled_at,
                task_queue=self._settings.temporal_task_queue,
            )
