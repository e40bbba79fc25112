"""`ReorderCycle`: one customer's cycle, sync → recommend → approve → submit once → track.

Deterministic: every side effect is an activity; time comes from `workflow.now()`. Decisions
arrive as Updates whose validators refuse (without touching history) anything that does not
apply to the state the cycle is in, so callers get an answer or a clear refusal at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.cycle_activities import CycleActivities
    from activities.cycle_models import (
        ApprovalRecord,
        ApproveAndSubmit,
        ApproveRequest,
        ApproveResult,
        CloseOrdersRequest,
        CycleInput,
        CycleRecord,
        CycleState,
        CycleStatus,
        Decision,
        FirstSubmission,
        NotifyRequest,
        OpsRequest,
        OrderView,
        PlannedOrder,
        RecommendationView,
        RecommendRequest,
        RefreshRequest,
        RejectRecord,
        RejectRequest,
        SubmitRequest,
        SyncRequest,
        TrackRequest,
    )
    from activities.heartbeat import HEARTBEAT_TIMEOUT
    from core.temporal import CYCLE_STATUS

# Activities that only touch our own database: quick, retried briefly and often.
STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# Reading the ERP: a full sync of the largest customer takes seconds; outages retry for an hour.
SYNC_TIMEOUT = timedelta(minutes=5)
SYNC_RETRY_FOR = timedelta(hours=1)
BUSINESS_ERRORS = ("ErpRejected", "ErpBadData")  # the ERP said no: retrying will not change it
ERP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=list(BUSINESS_ERRORS),
)
# The first submission attempt of each approved container runs inside the approval, in the
# worker that holds it; a slow or failing ERP falls back to the retried activity after this.
FIRST_ATTEMPT_TIMEOUT = timedelta(seconds=5)
AUTO_APPROVER = "policy:auto-approve-urgent"
# workflow.patched() ids: behaviour changes that running cycles must not see mid-history.
SUBMIT_WITH_STATUS = "submit-with-status"
APPROVAL_LOCAL_ACTIVITY = "approval-local-activity"
SUBMIT_IN_APPROVAL = "submit-in-approval"


class Refused(ApplicationError):
    """An update the cycle cannot take in its current state; the API answers 409."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="CycleRefused", non_retryable=True)


@workflow.defn(name="ReorderCycle")
class ReorderCycle:
    @workflow.init
    def __init__(self, inp: CycleInput) -> None:
        self._inp = inp
        self._state = CycleState(
            workflow_id=workflow.info().workflow_id,
            customer_id=inp.customer_id,
            customer_name=inp.customer_name,
            status=CycleStatus.SYNCING,
        )
        self._planned: list[PlannedOrder] = []
        self._decided = False
        self._ops_choice: str | None = None
        self._retry_round = 0
        self._base_keys: dict[int, str] = {}
        self._rejected: set[int] = set()
        # The approval wrote the orders, made the first submission attempts and recorded the
        # status `submitting` (approve_and_submit): the steps after it are fewer.
        self._approved_in_one_step = False

    # --- the run ----------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleState:
        await self._sync_and_plan(actor=inp.started_by)
        if not self._decided:
            # A decision may already be on its way (an approval can arrive while the status
            # is being recorded), so wait on the decision itself, not on the status.
            if self._state.status is CycleStatus.AWAITING_APPROVAL:
                await self._notify("ready", self._ready_subject(), self._ready_body())
            await self._wait_for_decision()
        if self._planned:
            await self._submit_until_done()
            if any(o.erp_order_number for o in self._state.orders):
                await self._track()
                await self._set_status(CycleStatus.COMPLETED, "every order delivered or cancelled")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _sync_and_plan(self, actor: str) -> None:
        await self._set_status(CycleStatus.SYNCING, actor=actor)
        wid = self._state.workflow_id
        try:
            await workflow.execute_activity_method(
                CycleActivities.sync_customer,
                SyncRequest(customer_id=self._inp.customer_id, workflow_id=wid),
                start_to_close_timeout=SYNC_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                schedule_to_close_timeout=SYNC_RETRY_FOR,
                retry_policy=ERP_RETRY,
                summary=f"sync ERP snapshot of {self._inp.customer_name}",
            )
        except ActivityError as err:
            await self._set_status(CycleStatus.FAILED, f"ERP sync failed: {_cause(err)}")
            raise ApplicationError(f"ERP sync failed: {_cause(err)}", non_retryable=True) from err
        await self._set_status(CycleStatus.PLANNING)
        recommendation: RecommendationView = await workflow.execute_activity_method(
            CycleActivities.recommend,
            RecommendRequest(customer_id=self._inp.customer_id, workflow_id=wid),
            start_to_close_timeout=timedelta(minutes=2),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="plan containers and store the recommendation",
        )
        self._state.recommendation = recommendation
        if recommendation.containers:
            await self._set_status(CycleStatus.AWAITING_APPROVAL, recommendation.summary)
        else:
            self._decided = True
            await self._set_status(CycleStatus.NOTHING_TO_ORDER, recommendation.summary)

    # --- waiting: reminders, auto-approval, expiry ------------------------------------------

    async def _wait_for_decision(self) -> None:
        policy = self._inp.policy
        since = workflow.now()
        expires_at = since + policy.expire_after
        next_reminder = since + policy.remind_every
        auto_at = (
            since + policy.auto_approve_urgent_after if policy.auto_approve_urgent_after else None
        )
        self._state.waiting_since, self._state.expires_at = since, expires_at
        while not self._decided:
            now = workflow.now()
            waiting = self._state.status is CycleStatus.AWAITING_APPROVAL
            if waiting and now >= expires_at:
                await self._expire()
                return
            if waiting and auto_at is not None and now >= auto_at:
                auto_at = None
                if self._state.recommendation and self._state.recommendation.urgent_indexes:
                    await self._auto_approve()
                    continue
            if waiting and now >= next_reminder:
                next_reminder = now + policy.remind_every
                self._state.reminders_sent += 1
                await self._notify(
                    "reminder",
                    f"Reminder: {self._ready_subject()}",
                    self._ready_body()
                    + f"\nThis recommendation expires at {expires_at:%Y-%m-%d %H:%M} UTC.",
                )
                continue
            wake_at = min(t for t in (expires_at, next_reminder, auto_at) if t is not None)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._decided, timeout=max(wake_at - now, timedelta(seconds=1))
                )

    async def _expire(self) -> None:
        self._decided = True
        self._state.decision = Decision(kind="expired", actor="workflow", at=workflow.now())
        await self._set_status(CycleStatus.EXPIRED, "no decision before the recommendation expired")
        await self._notify(
            "expired",
            f"Recommendation v{self._version()} for {self._inp.customer_name} expired",
            "No one approved or rejected it in time. A new cycle will start on the next cadence.",
        )

    async def _auto_approve(self) -> None:
        rec = self._state.recommendation
        assert rec is not None
        self._state.status = CycleStatus.APPROVING
        request = ApproveRequest(
            version=rec.version, containers=rec.urgent_indexes, actor=AUTO_APPROVER
        )
        await self._record_approval(request, auto=True)

    # --- decisions (Updates) -----------------------------------------------------------------

    @workflow.update
    async def approve(self, request: ApproveRequest) -> ApproveResult:
        self._state.status = (
            CycleStatus.APPROVING
        )  # before any await: a concurrent approval is refused
        return await self._record_approval(request, auto=False)

    @approve.validator
    def _validate_approve(self, request: ApproveRequest) -> None:
        rec = self._require_waiting(request.version)
        chosen = (
            request.containers
            if request.containers is not None
            else [c.index for c in rec.containers]
        )
        known = {c.index for c in rec.containers}
        if not chosen:
            raise Refused("containers: choose at least one container to approve")
        unknown = sorted(set(chosen) - known)
        if unknown:
            raise Refused(f"containers: no container {unknown[0]} in version {rec.version}")
        lines = {
            line.product_code: line for c in rec.containers if c.index in chosen for line in c.lines
        }
        for code, quantity in request.edits.items():
            line = lines.get(code)
            if line is None:
                raise Refused(f"edits.{code}: not a line of the chosen containers")
            if quantity < 0:
                raise Refused(f"edits.{code}: quantity {quantity} is negative")
            if quantity and quantity % line.pack_size:
                raise Refused(
                    f"edits.{code}: quantity {quantity:,} is not a multiple of "
                    f"the pack size {line.pack_size:,}"
                )
            minimum = max(-(-line.moq // line.pack_size), 1) * line.pack_size
            if quantity and quantity < minimum:
                raise Refused(
                    f"edits.{code}: quantity {quantity:,} is below the minimum order {minimum:,}"
                )
        if all(request.edits.get(code, line.quantity) == 0 for code, line in lines.items()):
            raise Refused("edits: every quantity is zero; reject the recommendation instead")

    async def _record_approval(self, request: ApproveRequest, *, auto: bool) -> ApproveResult:
        rec = self._state.recommendation
        assert rec is not None
        chosen = (
            request.containers
            if request.containers is not None
            else [c.index for c in rec.containers]
        )
        self._state.decision = Decision(
            kind="approved", actor=request.actor, at=workflow.now(), auto=auto,
            reason="urgent containers approved by policy after the grace period" if auto else None,
        )  # fmt: skip
        record = ApprovalRecord(
            customer_id=self._inp.customer_id,
            workflow_id=self._state.workflow_id,
            run_id=workflow.info().run_id,
            version=rec.version,
            containers=chosen,
            edits=request.edits,
            actor=request.actor,
            auto=auto,
        )
        summary = f"record approval of v{rec.version} by {request.actor}"
        planned: list[PlannedOrder]
        first: list[FirstSubmission] = []
        if workflow.patched(SUBMIT_IN_APPROVAL):
            # In the worker that holds the approval: the orders are written and each one
            # offered to the ERP once, so the ERP holds them one transaction after the approval
            # arrived and the answer carries their ERP numbers. What the ERP did not take in
            # time, the submission loop retries with backoff.
            attempt_timeout = min(self._inp.policy.submit_attempt_timeout, FIRST_ATTEMPT_TIMEOUT)
            outcome = await workflow.execute_local_activity_method(
                CycleActivities.approve_and_submit,
                ApproveAndSubmit(
                    approval=record,
                    attempt_timeout=attempt_timeout,
                    cycle=self._cycle_record(CycleStatus.SUBMITTING),
                ),
                start_to_close_timeout=STORE_TIMEOUT + attempt_timeout,
                retry_policy=STORE_RETRY,
                summary=f"{summary}, offer its containers to the ERP",
            )
            planned, first = outcome.planned, outcome.submissions
            workflow.upsert_search_attributes([CYCLE_STATUS.value_set(CycleStatus.SUBMITTING)])
            self._approved_in_one_step = True
        elif workflow.patched(APPROVAL_LOCAL_ACTIVITY):
            # A store write in the worker that runs the workflow: the approver waits for one
            # database transaction, not for a round trip through the task queue.
            planned = await workflow.execute_local_activity_method(
                CycleActivities.record_approval,
                record,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
                summary=summary,
            )
        else:
            planned = await workflow.execute_activity_method(
                CycleActivities.record_approval,
                record,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
                summary=summary,
            )
        self._planned = planned
        self._base_keys = {p.order_id: p.idempotency_key for p in planned}
        self._state.orders = [
            OrderView(
                order_id=p.order_id,
                container_index=p.container_index,
                idempotency_key=p.idempotency_key,
                cartons=p.cartons,
            )
            for p in planned
        ]
        by_id = {o.order_id: o for o in self._state.orders}
        for attempt in first:
            order = by_id[attempt.order_id]
            if attempt.erp_order_number:
                order.status, order.erp_order_number = "submitted", attempt.erp_order_number
                order.eta = attempt.eta
            elif attempt.rejected:
                order.status, order.failure = "failed", attempt.failure
                self._rejected.add(order.order_id)
        self._decided = True
        self._state.status = CycleStatus.SUBMITTING
        return ApproveResult(version=rec.version, orders=list(self._state.orders))

    @workflow.update
    async def reject(self, request: RejectRequest) -> CycleState:
        self._decided = True
        self._state.decision = Decision(
            kind="rejected", actor=request.actor, at=workflow.now(), reason=request.reason
        )
        self._state.status = CycleStatus.REJECTED
        await workflow.execute_activity_method(
            CycleActivities.record_rejection,
            RejectRecord(
                customer_id=self._inp.customer_id,
                workflow_id=self._state.workflow_id,
                version=request.version,
                reason=request.reason,
                actor=request.actor,
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"record rejection of v{request.version} by {request.actor}",
        )
        await self._set_status(CycleStatus.REJECTED, request.reason, actor=request.actor)
        return self._state

    @reject.validator
    def _validate_reject(self, request: RejectRequest) -> None:
        self._require_waiting(request.version)
        if not request.reason.strip():
            raise Refused("reason: say why the recommendation is rejected")

    @workflow.update
    async def refresh(self, request: RefreshRequest) -> CycleState:
        self._state.status = CycleStatus.REFRESHING
        await self._sync_and_plan(actor=request.actor)
        return self._state

    @refresh.validator
    def _validate_refresh(self, request: RefreshRequest) -> None:
        if self._state.status is not CycleStatus.AWAITING_APPROVAL:
            raise Refused(f"the cycle is {self._state.status.value}, not waiting for approval")

    @workflow.update
    async def retry(self, request: OpsRequest) -> CycleState:
        return await self._ops_decision("retry", request)

    @workflow.update
    async def cancel(self, request: OpsRequest) -> CycleState:
        return await self._ops_decision("cancel", request)

    async def _ops_decision(
        self, kind: Literal["retry", "cancel"], request: OpsRequest
    ) -> CycleState:
        """Hand ops' choice to the submission loop and answer once it has acted on it."""
        self._ops_choice = kind
        self._state.decision = Decision(
            kind=kind, actor=request.actor, at=workflow.now(), reason=request.reason
        )
        await workflow.wait_condition(lambda: self._ops_choice is None)
        return self._state

    @retry.validator
    def _validate_retry(self, request: OpsRequest) -> None:
        self._require_failed()

    @cancel.validator
    def _validate_cancel(self, request: OpsRequest) -> None:
        self._require_failed()

    @workflow.query
    def status(self) -> CycleState:
        return self._state

    def _require_waiting(self, version: int) -> RecommendationView:
        if self._state.status is not CycleStatus.AWAITING_APPROVAL:
            raise Refused(f"the cycle is {self._state.status.value}, not waiting for approval")
        rec = self._state.recommendation
        assert rec is not None
        if version != rec.version:
            raise Refused(
                f"version: v{version} is stale; the current recommendation is v{rec.version}"
            )
        return rec

    def _require_failed(self) -> None:
        if self._state.status is not CycleStatus.SUBMISSION_FAILED or self._ops_choice is not None:
            raise Refused(f"the cycle is {self._state.status.value}, not a failed submission")

    # --- submission and tracking ------------------------------------------------------------

    async def _submit_until_done(self) -> None:
        status_recorded = self._approved_in_one_step
        while True:
            pending = [
                o
                for o in self._state.orders
                if o.erp_order_number is None and o.status not in ("cancelled", "failed")
            ]
            submits = [self._submit(order) for order in pending]
            if status_recorded:
                status_recorded = False
                await asyncio.gather(*submits)
            elif workflow.patched(SUBMIT_WITH_STATUS):
                # The status write and the ERP submissions go out together: the buyer's
                # order reaches the ERP one round trip sooner.
                await asyncio.gather(self._set_status(CycleStatus.SUBMITTING), *submits)
            else:
                await self._set_status(CycleStatus.SUBMITTING)
                await asyncio.gather(*submits)
            failed = [o for o in self._state.orders if o.status == "failed"]
            if not failed:
                return
            summary = "; ".join(f"container {o.container_index}: {o.failure}" for o in failed)
            await self._set_status(CycleStatus.SUBMISSION_FAILED, summary)
            await self._notify(
                "submission_failed",
                f"Order submission failed for {self._inp.customer_name}",
                f"{summary}\nFix the cause in the ERP, then retry or cancel the cycle "
                f"{self._state.workflow_id} in the ops console.",
                to_ops=True,
            )
            await workflow.wait_condition(lambda: self._ops_choice is not None)
            choice, self._ops_choice = self._ops_choice, None
            actor = self._state.decision.actor if self._state.decision else "ops"
            if choice == "cancel":
                await self._close_orders(failed, "cancelled", f"cancelled by {actor}", actor)
                if not any(o.erp_order_number for o in self._state.orders):
                    await self._set_status(
                        CycleStatus.CANCELLED, f"cancelled by {actor}", actor=actor
                    )
                return
            self._retry_round += 1
            for order in failed:
                order.status, order.failure = "approved", None
                if order.order_id in self._rejected:
                    # The ERP refused it, so no order exists under the old key; a fresh key
                    # keeps an ERP that remembers refusals from replaying the refusal.
                    order.idempotency_key = (
                        f"{self._base_keys[order.order_id]}:r{self._retry_round}"
                    )
            self._rejected.clear()

    async def _submit(self, order: OrderView) -> None:
        try:
            result = await workflow.execute_activity_method(
                CycleActivities.submit_order,
                SubmitRequest(
                    customer_id=self._inp.customer_id,
                    order_id=order.order_id,
                    idempotency_key=order.idempotency_key,
                ),
                start_to_close_timeout=self._inp.policy.submit_attempt_timeout,
                schedule_to_close_timeout=self._inp.policy.submit_retry_for,
                retry_policy=ERP_RETRY,
                summary=f"submit container {order.container_index} to the ERP "
                f"({order.cartons:,} cartons)",
            )
        except ActivityError as err:
            order.status, order.failure = "failed", _cause(err)
            if _error_type(err) in BUSINESS_ERRORS:
                self._rejected.add(order.order_id)
            return
        order.status, order.erp_order_number = "submitted", result.erp_order_number

    async def _track(self) -> None:
        # A cycle approved in one step records `tracking` alongside its first check.
        status_pending = self._approved_in_one_step
        if not status_pending:
            await self._set_status(CycleStatus.TRACKING)
        interval = self._inp.policy.track_poll_initial
        while True:
            open_orders = [
                o for o in self._state.orders if o.status not in ("delivered", "cancelled")
            ]
            if not open_orders:
                if status_pending:
                    await self._set_status(CycleStatus.TRACKING)
                return
            check = workflow.execute_activity_method(
                CycleActivities.track_orders,
                TrackRequest(
                    customer_id=self._inp.customer_id, order_ids=[o.order_id for o in open_orders]
                ),
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=ERP_RETRY,
                summary=f"check {len(open_orders)} order(s) in the ERP",
            )
            if status_pending:
                status_pending = False
                tracked, _ = await asyncio.gather(check, self._set_status(CycleStatus.TRACKING))
            else:
                tracked = await check
            changed = False
            by_id = {o.order_id: o for o in self._state.orders}
            for t in tracked:
                order = by_id[t.order_id]
                if (order.status, order.eta) != (t.status, t.eta):
                    changed = True
                order.status, order.eta = t.status, t.eta
            if changed:
                await self._set_status(CycleStatus.TRACKING, _orders_line(self._state.orders))
                interval = self._inp.policy.track_poll_initial
            else:
                interval = min(interval * 2, self._inp.policy.track_poll_max)
            if all(o.status in ("delivered", "cancelled") for o in self._state.orders):
                return
            await workflow.sleep(interval)

    async def _close_orders(
        self, orders: list[OrderView], status: str, reason: str, actor: str
    ) -> None:
        await workflow.execute_activity_method(
            CycleActivities.close_orders,
            CloseOrdersRequest(
                customer_id=self._inp.customer_id,
                order_ids=[o.order_id for o in orders],
                status=status,
                reason=reason,
                actor=actor,
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"mark {len(orders)} order(s) {status}",
        )
        for order in orders:
            order.status = status

    # --- helpers ----------------------------------------------------------------------------

    async def _set_status(
        self, status: CycleStatus, detail: str | None = None, *, actor: str = "workflow"
    ) -> None:
        self._state.status = status
        workflow.upsert_search_attributes([CYCLE_STATUS.value_set(status.value)])
        await workflow.execute_activity_method(
            CycleActivities.record_cycle,
            self._cycle_record(status, detail, actor=actor),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"cycle is {status.value}",
        )

    async def _notify(self, kind: str, subject: str, body: str, *, to_ops: bool = False) -> None:
        await workflow.execute_activity_method(
            CycleActivities.notify,
            NotifyRequest(
                customer_id=self._inp.customer_id,
                workflow_id=self._state.workflow_id,
                kind=kind,
                subject=subject,
                body=body,
                to_ops=to_ops,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=5),
            summary=f"notify {'ops' if to_ops else 'customer'}: {kind}",
        )

    def _cycle_record(
        self, status: CycleStatus, detail: str | None = None, *, actor: str = "workflow"
    ) -> CycleRecord:
        return CycleRecord(
            workflow_id=self._state.workflow_id,
            run_id=workflow.info().run_id,
            customer_id=self._inp.customer_id,
            status=status,
            recommendation_version=self._version(),
            detail=detail,
            actor=actor,
        )

    def _version(self) -> int | None:
        return self._state.recommendation.version if self._state.recommendation else None

    def _ready_subject(self) -> str:
        rec = self._state.recommendation
        assert rec is not None
        urgent = len(rec.urgent_indexes)
        tail = f", {urgent} urgent" if urgent else ""
        return f"{len(rec.containers)} container(s) to approve for {self._inp.customer_name}{tail}"

    def _ready_body(self) -> str:
        rec = self._state.recommendation
        assert rec is not None
        return f"Recommendation v{rec.version}: {rec.summary}"


def _cause(err: BaseException) -> str:
    cause = err.cause if isinstance(err, ActivityError) and err.cause else err
    while isinstance(cause, ActivityError) and cause.cause:
        cause = cause.cause
    return str(cause) or type(cause).__name__


def _error_type(err: BaseException) -> str | None:
    cause = err.cause if isinstance(err, ActivityError) else None
    return cause.type if isinstance(cause, ApplicationError) else None


def _orders_line(orders: list[OrderView]) -> str:
    return ", ".join(f"#{o.container_index} {o.erp_order_number or '-'} {o.status}" for o in orders)
