"""`ScheduledCycleStart`: what a customer's Temporal Schedule runs — one activity that starts
the customer's review: a new `ReorderCycle` under its fixed id, or, when one is still open,
the review of that one (refresh, remind ops, or nothing). A review that cannot be started
for six hours fails, and ops are told (never a silent skip)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.contract import names
    from workflows.contract.notification import (
        NotificationInput,
        NotificationStart,
        NotifyRequest,
    )
    from workflows.contract.schedule import (
        ScheduledStartInput,
        ScheduledStartRequest,
        ScheduledStartResult,
    )


@workflow.defn(name=names.SCHEDULED_CYCLE_START)
class ScheduledCycleStart:
    @workflow.run
    async def run(self, inp: ScheduledStartInput) -> ScheduledStartResult:
        try:
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
        except ActivityError as err:
            info = workflow.info()
            await workflow.execute_activity(
                "send_notification",
                NotificationStart(
                    workflow_id=names.notification_workflow_id(info.workflow_id, info.run_id, 1),
                    notification=NotificationInput(
                        request=NotifyRequest(
                            customer_id=inp.customer_id,
                            workflow_id=info.workflow_id,
                            kind="review_failed",
                            subject=f"Scheduled review of customer {inp.customer_id} failed",
                            body=f"The review on cadence could not start: {err.cause or err}\\n"
                            f"Workflow {info.workflow_id} in the Temporal UI has the details.",
                            to_ops=True,
                        )
                    ),
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
                summary="tell ops the review failed",
            )
            raise
        return result
