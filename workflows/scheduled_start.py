"""`ScheduledCycleStart`: what a customer's Temporal Schedule runs — one activity that starts
the customer's review: a new `ReorderCycle` under its fixed id, or, when one is still open,
the review of that one (refresh, remind ops, or nothing)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contract import names
    from workflows.contract.schedule import (
        ScheduledStartInput,
        ScheduledStartRequest,
        ScheduledStartResult,
    )


@workflow.defn(name=names.SCHEDULED_CYCLE_START)
class ScheduledCycleStart:
    @workflow.run
    async def run(self, inp: ScheduledStartInput) -> ScheduledStartResult:
        result: ScheduledStartResult = await workflow.execute_activity(
            "start_scheduled_cycle",
            ScheduledStartRequest(customer_id=inp.customer_id, scheduled_at=workflow.now()),
            result_type=ScheduledStartResult,
            # A review that refreshes waits for the refreshed plan (a sync and a plan).
            start_to_close_timeout=timedelta(minutes=15),
            schedule_to_close_timeout=timedelta(hours=6),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            summary=f"review customer {inp.customer_id}",
        )
        return result
