"""`Shipment`: one ERP order, followed from the ERP's acceptance until it is delivered or
cancelled, independently of the cycle that placed it.

It asks the ERP with back-off (a change brings the interval back to its start) and takes the
ERP's pushes by signal, which update it at once. The rules (`workflows.shipment_rules`) say
what an observation changes: shipped, ETA changed, late, delivered, cancelled. Each change is
written to the read model, set in the `ShipmentStatus` search attribute, and told to the
buyer (and ops, when late) by Notification workflows in the background. A long shipment
continues as new before its history grows large. However it ends, the read model and the
search attribute say so.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from core.temporal import SHIPMENT_STATUS
    from workflows import shipment_rules as rules
    from workflows.contract import names
    from workflows.contract.notification import NotificationInput, NotificationStart, NotifyRequest
    from workflows.contract.shipment import (
        Observation,
        ShipmentChange,
        ShipmentCheck,
        ShipmentInput,
        ShipmentRecord,
        ShipmentState,
        ShipmentStatus,
    )
    from workflows.erp_queue import erp_queue

STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
CHECK_TIMEOUT = timedelta(seconds=30)
# One check: a few quick retries; a check that still fails is counted and the next one waits
# for the back-off, so an ERP outage or an unreadable answer never fails the shipment.
CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=4,
)


@workflow.defn(name=names.SHIPMENT)
class Shipment:
    @workflow.init
    def __init__(self, inp: ShipmentInput) -> None:
        self._inp = inp
        self._state = inp.carried or ShipmentState(
            workflow_id=workflow.info().workflow_id,
            customer_id=inp.customer_id,
            customer_name=inp.customer_name,
            order_id=inp.order_id,
            erp_order_number=inp.erp_order_number,
            container_index=inp.container_index,
            cycle_workflow_id=inp.cycle_workflow_id,
            promised_eta=inp.promised_eta,
            eta=inp.promised_eta,
        )
        self._inbox: list[Observation] = []
        self._notices = 0

    @workflow.signal(name=names.ERP_EVENT)
    def erp_event(self, event: Observation) -> None:
        """A push from the ERP (through the API, which checked its signature)."""
        pending = {o.event_id for o in self._inbox}
        if rules.known_event(self._state, event.event_id) or event.event_id in pending:
            return
        self._inbox.append(event.model_copy(update={"source": "push"}))

    @workflow.query(name=names.STATUS)
    def status(self) -> ShipmentState:
        return self._state

    @workflow.run
    async def run(self, inp: ShipmentInput) -> ShipmentState:
        try:
            return await self._follow(inp)
        except (Exception, asyncio.CancelledError) as err:
            await self._ended(str(getattr(err, "cause", None) or err) or type(err).__name__)
            raise

    async def _ended(self, reason: str) -> None:
        """However the run ends short of delivery, the read model, the search attribute and
        ops say so."""
        await self._record([], ShipmentStatus.FAILED, source="failed")
        state = self._state
        await self._notify(
            "shipment_failed",
            f"Following order {state.erp_order_number} of {state.customer_name} stopped",
            f"Shipment {state.workflow_id} ended without a delivery: {reason}\n"
            "See its history in the Temporal UI; the order itself is unchanged in the ERP.",
            to_ops=True,
        )

    async def _follow(self, inp: ShipmentInput) -> ShipmentState:
        policy = inp.policy
        if inp.carried is None:
            await self._record([], self._state.status, source="accepted")
        interval = inp.poll_interval or policy.poll_initial
        next_check = workflow.now() + interval
        while not self._state.finished:
            if not self._inbox:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: bool(self._inbox), timeout=self._sleep(next_check)
                    )
            observation: Observation | None
            if self._inbox:
                observation, source = self._inbox.pop(0), "push"
            else:
                # A check is due, or the ETA just passed: ask the ERP before calling the
                # order late (it may have been delivered since the last check).
                observation = await self._check()
                source = "poll" if observation is not None else "calendar"
            before = self._state
            self._state, changes = rules.apply(before, observation, workflow.now().date())
            if changes or self._state.status is not before.status:
                await self._record(changes, self._state.status, source=source)
                await self._tell(changes)
            interval = rules.next_interval(interval, bool(changes), policy)
            next_check = workflow.now() + interval
            info = workflow.info()
            if not self._state.finished and rules.should_continue_as_new(
                info.get_current_history_length(), info.is_continue_as_new_suggested(), policy
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                carried = self._state.model_copy(update={"runs": self._state.runs + 1})
                workflow.continue_as_new(
                    inp.model_copy(
                        update={"carried": carried, "poll_interval": interval, "policy": policy}
                    )
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    def _sleep(self, next_check: datetime) -> timedelta:
        wake = next_check
        deadline = rules.lateness_deadline(self._state)
        if deadline is not None:
            wake = min(wake, deadline)
        return max(wake - workflow.now(), timedelta(seconds=1))

    async def _check(self) -> Observation | None:
        """Ask the ERP; a failed check is counted (ops hear once after a few in a row) and
        the shipment goes on waiting."""
        try:
            observation: Observation = await workflow.execute_activity(
                "check_shipment",
                ShipmentCheck(customer_id=self._inp.customer_id, order_id=self._inp.order_id),
                result_type=Observation,
                start_to_close_timeout=CHECK_TIMEOUT,
                retry_policy=CHECK_RETRY,
                task_queue=erp_queue(),
                summary=f"ask the ERP about order {self._state.erp_order_number}",
            )
        except ActivityError as err:
            state = self._state
            state.failed_checks += 1
            if state.failed_checks >= self._inp.policy.unreadable_after and not (
                state.erp_unreadable_reported
            ):
                state.erp_unreadable_reported = True
                await self._notify(
                    "erp_unreadable",
                    f"Order {state.erp_order_number} of {state.customer_name} cannot be read "
                    "from the ERP",
                    f"{state.failed_checks} checks in a row failed; the last: {err.cause or err}.\n"
                    "The shipment keeps asking with back-off and takes ERP pushes meanwhile.",
                    to_ops=True,
                )
            return None
        if self._state.erp_unreadable_reported:
            self._state.erp_unreadable_reported = False
        return observation

    async def _record(
        self, changes: list[ShipmentChange], status: ShipmentStatus, *, source: str
    ) -> None:
        state = self._state
        state.status = status
        workflow.upsert_search_attributes([SHIPMENT_STATUS.value_set(status.value)])
        await workflow.execute_activity(
            "record_shipment",
            ShipmentRecord(
                workflow_id=state.workflow_id,
                customer_id=state.customer_id,
                order_id=state.order_id,
                status=status,
                erp_status=state.erp_status,
                promised_eta=state.promised_eta,
                eta=state.eta,
                delivered_on=state.delivered_on,
                late=state.late,
                late_reason=state.late_reason,
                changes=changes,
                source=source,
                at=workflow.now(),
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"order {state.erp_order_number} is {status.value}",
        )

    async def _tell(self, changes: list[ShipmentChange]) -> None:
        state = self._state
        notices = []
        what = f"Order {state.erp_order_number}"
        if state.container_index is not None:
            what += f" (container {state.container_index})"
        for change in changes:
            buyer, ops = rules.audience(change)
            eta = f"\nExpected: {state.eta:%Y-%m-%d}." if state.eta else ""
            subject = f"{what} for {state.customer_name}: {change.detail}"
            body = f"{what}: {change.detail}.{eta}"
            if buyer:
                notices.append(self._notify(change.kind, subject, body))
            if ops:
                notices.append(self._notify(change.kind, subject, body, to_ops=True))
        await asyncio.gather(*notices)

    async def _notify(self, kind: str, subject: str, body: str, *, to_ops: bool = False) -> None:
        """Hand the message to a Notification workflow, which sends it in the background."""
        self._notices += 1
        info = workflow.info()
        request = NotifyRequest(
            customer_id=self._inp.customer_id,
            workflow_id=info.workflow_id,
            kind=kind,
            subject=subject,
            body=body,
            to_ops=to_ops,
        )
        await workflow.execute_activity(
            "send_notification",
            NotificationStart(
                workflow_id=names.notification_workflow_id(
                    info.workflow_id, info.run_id, self._notices
                ),
                notification=NotificationInput(request=request),
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"hand over the message to {'ops' if to_ops else 'the buyer'}: {kind}",
        )
