"""`Notification`: one message, delivered in the background until it lands or is given up.

Cycles and shipments start one as an abandoned child per message and go on at once, so a mail
server that is down never holds up or fails the job the message is about. Each failed attempt
after the first is retried with back-off for `retry_for`; the `notify` activity audits the
first failure and a late success, and a message given up is audited and told to ops.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.contract import names
    from workflows.contract.notification import (
        NotificationFailure,
        NotificationInput,
        NotificationResult,
    )

SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
STORE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


@workflow.defn(name=names.NOTIFICATION)
class Notification:
    @workflow.run
    async def run(self, inp: NotificationInput) -> NotificationResult:
        try:
            await workflow.execute_activity(
                "notify",
                inp.request,
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=inp.retry_for,
                retry_policy=SEND_RETRY,
                summary=f"send {inp.request.kind}: {inp.request.subject}",
            )
        except ActivityError as err:
            failure = str(err.cause or err)
            await workflow.execute_activity(
                "record_notification_failure",
                NotificationFailure(
                    request=inp.request,
                    notification_workflow_id=workflow.info().workflow_id,
                    failure=failure,
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=STORE_RETRY,
                summary="audit the message given up",
            )
            return NotificationResult(delivered=False, failure=failure)
        return NotificationResult(delivered=True)
