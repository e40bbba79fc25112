"""`ReorderCycle`: one review of one customer, sync → plan → wait for a decision → submit.

The cycle closes once the ERP has accepted every approved container (or nothing is ordered:
rejected, expired, cancelled, nothing to order). Each accepted order is followed by its own
`Shipment` workflow, started here and left running, so the customer's next review can start
on cadence while containers are at sea; the next plan counts them as pipeline.

Deterministic: every side effect is an activity (addressed by name), time comes from
`workflow.now()`, and what an Update may do, when the wait wakes and what a review does are
the plain rules of `workflows.cycle_rules`. Messages are handed to `Notification` workflows
that send them in the background, so they never hold up or fail the cycle. Cycles started
before a change finish as they would have: each change is behind `workflow.patched`, and
tests/workflows/histories replay every shape.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.temporal import CYCLE_STATUS
    from workflows import cycle_rules as rules
    from workflows.contract import names
    from workflows.contract.cycle import (
        ApprovalOutcome,
        ApprovalRecord,
        ApproveAndSubmit,
        ApproveRequest,
        ApproveResult,
        CloseOrdersRequest,
        CycleInput,
        CyclePolicy,
        CycleRecord,
        CycleState,
        CycleStatus,
        Decision,
        FirstSubmission,
        OpsRequest,
        OrderView,
        PlannedOrder,
        Proposal,
        ProposalRecord,
        ProposeRequest,
        RecommendationView,
        RecommendRequest,
        RefreshRequest,
        RejectRecord,
        RejectRequest,
        ReviewOutcome,
        ReviewRequest,
        SubmitRequest,
        SubmittedOrder,
        SyncRequest,
        TrackedOrder,
        TrackRequest,
    )
    from workflows.contract.notification import NotificationInput, NotificationStart, NotifyRequest
    from workflows.contract.shipment import ShipmentInput, ShipmentStart
    from workflows.contract.timing import HEARTBEAT_TIMEOUT
    from workflows.erp_queue import erp_queue

# Activities that only touch our own database: quick, retried briefly and often.
STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# Reading the ERP: a full sync of the largest customer takes seconds; outages retry for an hour.
SYNC_TIMEOUT = timedelta(minutes=5)
SYNC_RETRY_FOR = timedelta(hours=1)
# The ERP said no: retrying will not change it. (An answer that cannot be read is not a no:
# its outcome is unknown, and it is retried with the same key.)
BUSINESS_ERRORS = ("ErpRejected",)
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
SUBMIT_IN_APPROVAL = "submit-in-approval"
NOTIFY_IN_BACKGROUND = "notify-in-background"
WAIT_FOR_DEADLINES = "wait-for-deadlines"
ENDS_AT_SUBMISSION = "ends-at-submission"
EVERY_STATE_SEARCHABLE = "every-state-searchable"
AUTO_APPROVAL_LIMITS = "auto-approval-limits"


class Refused(ApplicationError):
    """An update the cycle cannot take in its current state; the API answers 409."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="CycleRefused", non_retryable=True)


class RefreshFailed(ApplicationError):
    """A refresh whose ERP sync failed: the recommendation that waited still waits (503)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="RefreshFailed", non_retryable=True)


class _SyncFailed(Exception):
    pass


@workflow.defn(name=names.REORDER_CYCLE)
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
        # Bumped whenever a new recommendation starts waiting: the wait restarts its deadlines.
        self._wait_epoch = 0
        self._ends_at_submission = False
        self._following: set[int] = set()
        self._notices = 0

    # --- the run ----------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleState:
        try:
            return await self._review(inp)
        except asyncio.CancelledError:
            await self._ended(CycleStatus.CANCELLED, "the workflow was cancelled")
            raise
        except Exception as err:
            await self._ended(CycleStatus.FAILED, _cause(err))
            raise

    async def _review(self, inp: CycleInput) -> CycleState:
        await self._sync_and_plan(actor=inp.started_by)
        if not self._decided:
            # A decision may already be on its way (an approval can arrive while the status
            # is being recorded), so wait on the decision itself, not on the status.
            if self._state.status is CycleStatus.AWAITING_APPROVAL:
                await self._notify("ready", self._ready_subject(), self._ready_body())
            if workflow.patched(WAIT_FOR_DEADLINES):
                await self._wait_for_decision()
            else:
                await self._wait_for_decision_every_second()
        if self._planned:
            self._ends_at_submission = workflow.patched(ENDS_AT_SUBMISSION)
            await self._submit_until_done()
            if self._ends_at_submission:
                await self._close_submitted()
            elif any(o.erp_order_number for o in self._state.orders):
                await self._track()
                await self._set_status(CycleStatus.COMPLETED, "every order delivered or cancelled")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _sync_and_plan(self, actor: str, *, refreshing: bool = False) -> None:
        await self._set_status(CycleStatus.SYNCING, actor=actor)
        wid = self._state.workflow_id
        try:
            await workflow.execute_activity(
                "sync_customer",
                SyncRequest(customer_id=self._inp.customer_id, workflow_id=wid),
                start_to_close_timeout=SYNC_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                schedule_to_close_timeout=self._inp.policy.refresh_sync_for
                if refreshing
                else SYNC_RETRY_FOR,
                retry_policy=ERP_RETRY,
                task_queue=erp_queue(),
                summary=f"sync ERP snapshot of {self._inp.customer_name}",
            )
        except ActivityError as err:
            if refreshing:
                raise _SyncFailed(_cause(err)) from err
            raise ApplicationError(f"ERP sync failed: {_cause(err)}", non_retryable=True) from err
        await self._set_status(CycleStatus.PLANNING)
        recommendation: RecommendationView = await workflow.execute_activity(
            "recommend",
            RecommendRequest(customer_id=self._inp.customer_id, workflow_id=wid),
            result_type=RecommendationView,
            start_to_close_timeout=timedelta(minutes=2),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary="plan containers and store the recommendation",
        )
        self._state.recommendation = recommendation
        proposal = self._state.proposal
        if proposal is not None and proposal.version != recommendation.version:
            self._state.proposal = None  # of an older version: it cannot be approved
        if recommendation.containers:
            # A new recommendation waits: its deadlines start now (the wait picks them up).
            self._wait_epoch += 1
            deadlines = rules.start_wait(workflow.now(), self._inp.policy)
            self._state.waiting_since = deadlines.since
            self._state.expires_at = deadlines.expires_at
            await self._set_status(CycleStatus.AWAITING_APPROVAL, recommendation.summary)
        else:
            self._decided = True
            await self._set_status(CycleStatus.NOTHING_TO_ORDER, recommendation.summary)

    # --- waiting: reminders, auto-approval, expiry ------------------------------------------

    async def _wait_for_decision(self) -> None:
        """Sleep until the next deadline or until something happens; never in between. A new
        recommendation (refresh, review) restarts the deadlines."""
        policy = self._inp.policy
        epoch = -1
        deadlines: rules.WaitDeadlines | None = None
        while not self._decided:
            if self._state.status is not CycleStatus.AWAITING_APPROVAL:
                # Approving, refreshing or deciding: only what the handler does wakes us.
                await workflow.wait_condition(
                    lambda: self._decided or self._state.status is CycleStatus.AWAITING_APPROVAL
                )
                continue
            now = workflow.now()
            if deadlines is None or epoch != self._wait_epoch:
                since = self._state.waiting_since or now
                epoch, deadlines = self._wait_epoch, rules.start_wait(since, policy)
            rec = self._state.recommendation
            assert rec is not None
            # Caps and credit decide only once the auto-approval time has come (patched:
            # cycles that reached it before took every urgent container).
            limited = rules.auto_time_passed(deadlines, now) and workflow.patched(
                AUTO_APPROVAL_LIMITS
            )
            approvable = rules.auto_approvable(rec, policy) if limited else rec.urgent_indexes
            held = [i for i in rec.urgent_indexes if i not in approvable]
            step = rules.due_step(deadlines, now, has_urgent=bool(approvable))
            if limited and step in (rules.WaitStep.REMIND, rules.WaitStep.SLEEP) and held:
                await self._auto_approval_held(held)  # nothing fits the limits: a person decides
            deadlines = rules.after_step(deadlines, step, now, policy)
            if step is rules.WaitStep.EXPIRE:
                await self._expire()
                return
            if step is rules.WaitStep.AUTO_APPROVE:
                await self._auto_approve(approvable, held)
                continue
            if step is rules.WaitStep.REMIND:
                await self._remind(deadlines.expires_at)
                continue
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    self._wait_interrupted(epoch),
                    timeout=rules.sleep_for(deadlines, now),
                )

    def _wait_interrupted(self, epoch: int) -> Callable[[], bool]:
        """A decision, a new recommendation, or the cycle leaving `awaiting_approval`."""
        return lambda: (
            self._decided
            or self._wait_epoch != epoch
            or self._state.status is not CycleStatus.AWAITING_APPROVAL
        )

    async def _wait_for_decision_every_second(self) -> None:
        """The wait of cycles started before `WAIT_FOR_DEADLINES`: it woke every second while
        the cycle was not waiting. Kept so those cycles replay; new cycles never run it."""
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
                await self._remind(expires_at)
                continue
            wake_at = min(t for t in (expires_at, next_reminder, auto_at) if t is not None)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._decided, timeout=max(wake_at - now, timedelta(seconds=1))
                )

    async def _remind(self, expires_at: datetime) -> None:
        self._state.reminders_sent += 1
        await self._notify(
            "reminder",
            f"Reminder: {self._ready_subject()}",
            self._ready_body()
            + f"\nThis recommendation expires at {expires_at:%Y-%m-%d %H:%M} UTC.",
        )

    async def _expire(self) -> None:
        self._decided = True
        self._state.decision = Decision(kind="expired", actor="workflow", at=workflow.now())
        await self._set_status(CycleStatus.EXPIRED, "no decision before the recommendation expired")
        await self._notify(
            "expired",
            f"Recommendation v{self._version()} for {self._inp.customer_name} expired",
            "No one approved or rejected it in time. The next review on your cadence will "
            "make a new one.",
        )

    async def _auto_approve(
        self, containers: list[int] | None = None, held: list[int] | None = None
    ) -> None:
        rec = self._state.recommendation
        assert rec is not None
        self._state.status = CycleStatus.APPROVING
        self._searchable(CycleStatus.APPROVING)
        chosen = rec.urgent_indexes if containers is None else containers
        request = ApproveRequest(version=rec.version, containers=chosen, actor=AUTO_APPROVER)
        await self._record_approval(request, auto=True, held=held)

    async def _auto_approval_held(self, held: list[int]) -> None:
        rec = self._state.recommendation
        why = (
            "the ERP has the credit on hold"
            if rec is not None and rec.credit_hold
            else "they are over the auto-approval limits or the credit left "
            f"({_caps(self._inp.policy, rec)})"
        )
        await self._notify(
            "auto_approval_held",
            f"Auto-approval held: {self._ready_subject()}",
            f"Nothing was approved by policy: the urgent containers ({_numbers(held)}) wait for "
            f"a person because {why}.\n\n" + self._ready_body(),
        )

    # --- decisions (Updates) -----------------------------------------------------------------

    @workflow.update(name=names.APPROVE)
    async def approve(self, request: ApproveRequest) -> ApproveResult:
        self._state.status = (
            CycleStatus.APPROVING
        )  # before any await: a concurrent approval is refused
        self._searchable(CycleStatus.APPROVING)
        return await self._record_approval(request, auto=False)

    @approve.validator
    def _validate_approve(self, request: ApproveRequest) -> None:
        try:
            rules.check_approval(self._state.status, self._state.recommendation, request)
        except rules.Refusal as refusal:
            raise Refused(str(refusal)) from None

    @workflow.update(name=names.PROPOSE)
    async def propose(self, request: ProposeRequest) -> CycleState:
        """A choice above its author's approval limit waits, unchanged, for an approver: the
        customer's approvers are told; the deadlines run on."""
        rec = self._state.recommendation
        assert rec is not None
        chosen = rules.chosen_containers(rec, rules.as_approval(request))
        proposal = Proposal(
            version=rec.version,
            containers=chosen,
            edits=request.edits,
            added=request.added,
            actor=request.actor,
            at=workflow.now(),
            value=rules.proposal_value(
                rules.with_additions(rec, chosen, request.added), chosen, request.edits
            ),
        )
        self._state.proposal = proposal
        await workflow.execute_activity(
            "record_proposal",
            ProposalRecord(
                customer_id=self._inp.customer_id,
                workflow_id=self._state.workflow_id,
                proposal=proposal,
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"record the proposal of v{rec.version} by {request.actor}",
        )
        if (
            self._state.proposal is not proposal
            or self._state.status is not CycleStatus.AWAITING_APPROVAL
        ):
            return self._state  # decided, replaced or re-planned meanwhile: nobody to ask
        worth = (
            f", worth {proposal.value:,.2f}{f' {rec.currency}' if rec.currency else ''}"
            if proposal.value is not None
            else ""
        )
        await self._notify(
            "approval_requested",
            f"Waiting for an approver: {self._ready_subject()}",
            f"{request.actor} proposes containers {_numbers(chosen)} of recommendation "
            f"v{rec.version}{worth}, above their approval limit. Approve or change the "
            "proposal in the portal.",
            to_approvers=True,
            value=proposal.value,
        )
        return self._state

    @propose.validator
    def _validate_propose(self, request: ProposeRequest) -> None:
        try:
            rules.check_proposal(self._state.status, self._state.recommendation, request)
        except rules.Refusal as refusal:
            raise Refused(str(refusal)) from None

    async def _record_approval(
        self, request: ApproveRequest, *, auto: bool, held: list[int] | None = None
    ) -> ApproveResult:
        rec = self._state.recommendation
        assert rec is not None
        chosen = rules.chosen_containers(rec, request)
        reason = "urgent containers approved by policy after the grace period" if auto else None
        if auto and held:
            reason = (
                f"{reason}; containers {_numbers(held)} held back by the auto-approval limits "
                f"or the credit left ({_caps(self._inp.policy, rec)})"
            )
        if request.credit_override:
            over = "the ERP's credit hold" if rec.credit_hold else "the credit limit"
            reason = f"approved over {over}: {request.credit_override}"
        proposed = self._state.proposal
        proposed_by = (
            proposed.actor
            if not auto
            and proposed is not None
            and sorted(proposed.containers) == sorted(chosen)
            and proposed.edits == request.edits
            and [a.product_code for a in proposed.added] == [a.product_code for a in request.added]
            else None
        )
        if proposed_by is not None and not request.credit_override:
            reason = f"proposed by {proposed_by}"
        self._state.proposal = None
        self._state.decision = Decision(
            kind="approved", actor=request.actor, at=workflow.now(), auto=auto, reason=reason
        )
        record = ApprovalRecord(
            customer_id=self._inp.customer_id,
            workflow_id=self._state.workflow_id,
            run_id=workflow.info().run_id,
            version=rec.version,
            containers=chosen,
            edits=request.edits,
            added=request.added,
            actor=request.actor,
            auto=auto,
            credit_override=request.credit_override,
            proposed_by=proposed_by,
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
            outcome: ApprovalOutcome = await workflow.execute_local_activity(
                "approve_and_submit",
                ApproveAndSubmit(
                    approval=record,
                    attempt_timeout=attempt_timeout,
                    cycle=self._cycle_record(CycleStatus.SUBMITTING),
                ),
                result_type=ApprovalOutcome,
                start_to_close_timeout=STORE_TIMEOUT + attempt_timeout,
                retry_policy=STORE_RETRY,
                summary=f"{summary}, offer its containers to the ERP",
            )
            planned, first = outcome.planned, outcome.submissions
            workflow.upsert_search_attributes([CYCLE_STATUS.value_set(CycleStatus.SUBMITTING)])
            self._approved_in_one_step = True
        else:
            planned = await workflow.execute_activity(
                "record_approval",
                record,
                result_type=list[PlannedOrder],
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
            else:
                order.failure = attempt.failure
        self._decided = True
        self._state.status = CycleStatus.SUBMITTING
        return ApproveResult(version=rec.version, orders=list(self._state.orders))

    @workflow.update(name=names.REJECT)
    async def reject(self, request: RejectRequest) -> CycleState:
        self._decided = True
        self._state.decision = Decision(
            kind="rejected", actor=request.actor, at=workflow.now(), reason=request.reason
        )
        self._state.status = CycleStatus.REJECTED
        await workflow.execute_activity(
            "record_rejection",
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
        try:
            rules.check_reject(
                self._state.status, self._state.recommendation, request.version, request.reason
            )
        except rules.Refusal as refusal:
            raise Refused(str(refusal)) from None

    @workflow.update(name=names.REFRESH)
    async def refresh(self, request: RefreshRequest) -> CycleState:
        self._state.status = CycleStatus.REFRESHING
        self._searchable(CycleStatus.REFRESHING)
        await self._refresh(request.actor, why="refreshed on request")
        return self._state

    @refresh.validator
    def _validate_refresh(self, request: RefreshRequest) -> None:
        try:
            rules.check_refresh(self._state.status)
        except rules.Refusal as refusal:
            raise Refused(str(refusal)) from None

    @workflow.update(name=names.REVIEW)
    async def review(self, request: ReviewRequest) -> ReviewOutcome:
        """A review on cadence that found this cycle open (what it does: `review_action`)."""
        status = self._state.status
        action = rules.review_action(status)
        if action is rules.ReviewAction.REFRESH:
            self._state.status = CycleStatus.REFRESHING
            self._searchable(CycleStatus.REFRESHING)
            await self._refresh(request.actor, why="refreshed by the review on cadence")
            return ReviewOutcome(
                action="refreshed",
                reason=f"the recommendation waiting was refreshed; the cycle is "
                f"{self._state.status.value}",
                version=self._version(),
            )
        if action is rules.ReviewAction.REMIND_OPS:
            await self._notify(
                "review_skipped",
                f"Review skipped for {self._inp.customer_name}: a submission failed",
                f"The review on cadence planned nothing while cycle {self._state.workflow_id} "
                f"waits for ops.\n{self._state.failure or ''}\nRetry or cancel it in the ops "
                "console.",
                to_ops=True,
            )
            return ReviewOutcome(
                action="skipped",
                reason="a submission failed and waits for ops; ops were reminded",
                version=self._version(),
            )
        return ReviewOutcome(
            action="skipped", reason=f"the cycle is {status.value}", version=self._version()
        )

    @review.validator
    def _validate_review(self, request: ReviewRequest) -> None:
        """Refused before it is accepted (and before the caller's signature is checked, see
        core.update_signing) when it names no one."""
        if not request.actor.strip():
            raise Refused("a review needs an actor")

    async def _refresh(self, actor: str, *, why: str) -> None:
        """A fresh sync and plan for a recommendation still waiting. If the sync fails, the
        recommendation that waited keeps waiting (and stays decidable)."""
        previous = self._state.recommendation
        try:
            await self._sync_and_plan(actor=actor, refreshing=True)
        except _SyncFailed as failure:
            self._state.recommendation = previous
            version = f"v{previous.version} " if previous else ""
            await self._set_status(
                CycleStatus.AWAITING_APPROVAL,
                f"refresh failed, the recommendation {version}still waits: ERP sync failed: "
                f"{failure}",
                actor=actor,
            )
            raise RefreshFailed(
                f"the ERP could not be synced ({failure}); recommendation {version}still "
                "waits for a decision"
            ) from None
        if self._state.status is CycleStatus.AWAITING_APPROVAL:
            await self._notify(
                "ready",
                f"Updated: {self._ready_subject()}",
                f"{self._ready_body()}\nThe recommendation was {why}; the earlier version can "
                "no longer be approved.",
            )

    @workflow.update(name=names.RETRY)
    async def retry(self, request: OpsRequest) -> CycleState:
        return await self._ops_decision("retry", request)

    @workflow.update(name=names.CANCEL)
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

    def _require_failed(self) -> None:
        try:
            rules.check_ops_decision(self._state.status, self._ops_choice is not None)
        except rules.Refusal as refusal:
            raise Refused(str(refusal)) from None

    @workflow.query(name=names.STATUS)
    def status(self) -> CycleState:
        return self._state

    # --- submission -------------------------------------------------------------------------

    async def _submit_until_done(self) -> None:
        status_recorded = self._approved_in_one_step
        while True:
            submits = [self._submit(order) for order in rules.pending_orders(self._state.orders)]
            if self._ends_at_submission:
                submits += [
                    self._follow(o)
                    for o in self._state.orders
                    if o.erp_order_number and o.order_id not in self._following
                ]
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
            summary = rules.failure_summary(self._state.orders)
            self._state.failure = summary
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
            self._state.failure = None

    async def _submit(self, order: OrderView) -> None:
        try:
            result: SubmittedOrder = await workflow.execute_activity(
                "submit_order",
                SubmitRequest(
                    customer_id=self._inp.customer_id,
                    order_id=order.order_id,
                    idempotency_key=order.idempotency_key,
                ),
                result_type=SubmittedOrder,
                start_to_close_timeout=self._inp.policy.submit_attempt_timeout,
                schedule_to_close_timeout=self._inp.policy.submit_retry_for,
                retry_policy=ERP_RETRY,
                task_queue=erp_queue(),
                summary=f"submit container {order.container_index} to the ERP "
                f"({order.cartons:,} cartons)",
            )
        except ActivityError as err:
            order.status, order.failure = "failed", _cause(err)
            if _error_type(err) in BUSINESS_ERRORS:
                self._rejected.add(order.order_id)
            return
        order.status, order.erp_order_number = "submitted", result.erp_order_number
        order.eta, order.failure = order.eta or result.eta, None
        if self._ends_at_submission:
            await self._follow(order)

    async def _follow(self, order: OrderView) -> None:
        """Start the order's `Shipment`: a workflow of its own (not a child) that follows the
        order until delivered or cancelled, whatever becomes of this cycle. One the API
        already started for an ERP push is kept."""
        number = order.erp_order_number
        assert number is not None
        self._following.add(order.order_id)
        shipment_id = names.shipment_workflow_id(self._inp.customer_id, number)
        order.shipment_workflow_id = shipment_id
        await workflow.execute_activity(
            "start_shipment",
            ShipmentStart(
                workflow_id=shipment_id,
                shipment=ShipmentInput(
                    customer_id=self._inp.customer_id,
                    customer_name=self._inp.customer_name,
                    erp_customer=self._inp.erp_customer,
                    order_id=order.order_id,
                    erp_order_number=number,
                    container_index=order.container_index,
                    cycle_workflow_id=self._state.workflow_id,
                    promised_eta=order.eta,
                    policy=self._inp.policy.shipment_policy(),
                ),
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"start the shipment of order {number}",
        )

    async def _close_submitted(self) -> None:
        """Every approved container is with the ERP (or cancelled by ops): the cycle ends."""
        if self._state.status is CycleStatus.CANCELLED:
            return
        detail = rules.submitted_summary(self._state.orders)
        await self._set_status(CycleStatus.SUBMITTED, detail)
        await self._notify(
            "submitted",
            f"Order placed for {self._inp.customer_name}: "
            f"{sum(1 for o in self._state.orders if o.erp_order_number)} container(s)",
            f"{detail}.\nEach order is followed until it is delivered; the orders page shows "
            "where they are.",
        )

    # --- the tracking of cycles started before ENDS_AT_SUBMISSION ---------------------------

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
            check = workflow.execute_activity(
                "track_orders",
                TrackRequest(
                    customer_id=self._inp.customer_id, order_ids=[o.order_id for o in open_orders]
                ),
                result_type=list[TrackedOrder],
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=ERP_RETRY,
                task_queue=erp_queue(),
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
        await workflow.execute_activity(
            "close_orders",
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
        await workflow.execute_activity(
            "record_cycle",
            self._cycle_record(status, detail, actor=actor),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=f"cycle is {status.value}",
        )

    def _searchable(self, status: CycleStatus) -> None:
        """A passing state in the search attribute too (cycles before the change did not)."""
        if workflow.patched(EVERY_STATE_SEARCHABLE):
            workflow.upsert_search_attributes([CYCLE_STATUS.value_set(status.value)])

    async def _ended(self, status: CycleStatus, detail: str) -> None:
        """However the run ends, the read model, the search attribute and ops say so."""
        self._state.failure = detail
        await self._set_status(status, detail)
        if status is CycleStatus.FAILED:
            await self._notify(
                "cycle_failed",
                f"Reorder cycle failed for {self._inp.customer_name}",
                f"{detail}\nCycle {self._state.workflow_id}: see its history in the Temporal UI.",
                to_ops=True,
            )

    async def _notify(
        self,
        kind: str,
        subject: str,
        body: str,
        *,
        to_ops: bool = False,
        to_approvers: bool = False,
        value: Decimal | None = None,
    ) -> None:
        request = NotifyRequest(
            customer_id=self._inp.customer_id,
            workflow_id=self._state.workflow_id,
            kind=kind,
            subject=subject,
            body=body,
            to_ops=to_ops,
            to_approvers=to_approvers,
            value=value,
        )
        if not workflow.patched(NOTIFY_IN_BACKGROUND):
            # Cycles started before background notifications waited for each message.
            await workflow.execute_activity(
                "notify",
                request,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=5),
                summary=f"notify {'ops' if to_ops else 'customer'}: {kind}",
            )
            return
        self._notices += 1
        info = workflow.info()
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


def _cause(err: BaseException, limit: int = 400) -> str:
    """The root cause's message, short: a headline, not a dump (the history keeps it all)."""
    cause = err.cause if isinstance(err, ActivityError) and err.cause else err
    while isinstance(cause, ActivityError) and cause.cause:
        cause = cause.cause
    text = str(cause) or type(cause).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_type(err: BaseException) -> str | None:
    cause = err.cause if isinstance(err, ActivityError) else None
    return cause.type if isinstance(cause, ApplicationError) else None


def _orders_line(orders: list[OrderView]) -> str:
    return ", ".join(f"#{o.container_index} {o.erp_order_number or '-'} {o.status}" for o in orders)


def _numbers(indexes: list[int]) -> str:
    return ", ".join(str(i) for i in indexes)


def _caps(policy: CyclePolicy, rec: RecommendationView | None = None) -> str:
    caps = []
    if policy.auto_approve_max_containers is not None:
        caps.append(f"at most {policy.auto_approve_max_containers} containers")
    if policy.auto_approve_max_cartons is not None:
        caps.append(f"at most {policy.auto_approve_max_cartons:,} cartons")
    if policy.auto_approve_max_value is not None:
        caps.append(f"worth at most {policy.auto_approve_max_value:,.2f}")
    if rec is not None and rec.available_credit is not None:
        caps.append(f"{max(rec.available_credit, 0):,.2f} of credit left")
    return " and ".join(caps)
