"""`ScheduledCycleStart`: what a customer's Temporal Schedule runs — one activity that starts
the customer's `ReorderCycle` under its fixed id, or finds the open one."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.schedule_activities import (
        ScheduleActivities,
        ScheduledStartInput,
        ScheduledStartRequest,
        ScheduledStartResult,
    )


@workflow.defn(name="ScheduledCycleStart")
class ScheduledCycleStart:
    @workflow.run
    async def run(self, inp: ScheduledStartInput) -> ScheduledStartResult:
        return await workflow.execute_activity_method(
            ScheduleActivities.start_scheduled_cycle,
            ScheduledStartRequest(customer_id=inp.customer_id, scheduled_at=workflow.now()),
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(hours=6),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            summary=f"start the reorder cycle of customer {inp.customer_id}",
        )
