"""The ReorderCycle's transition rules as plain functions: what an Update may do in each
state, when the wait for a decision wakes and what it does then, and what a review does.

No Temporal here, no I/O and no clock: the workflow passes `now` in. That keeps each rule a
fast unit test (tests/workflows/test_cycle_rules.py) and the workflow file about the loop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from core.errors import InvalidInput
from planning.approval import approved_containers, pack_item
from planning.edits import validate_quantities
from planning.errors import InvalidQuantity
from planning.models import Product, ProductStatus
from planning.packing import Limits
from workflows.contract.cycle import (
    ApproveRequest,
    ContainerLimitsView,
    CyclePolicy,
    CycleStatus,
    OrderView,
    RecommendationView,
)


class Refusal(ValueError):
    """An Update that does not apply to the cycle as it is; the message says why, naming the
    field when one is to blame."""


# --- decisions --------------------------------------------------------------------------------


def require_waiting(
    status: CycleStatus, recommendation: RecommendationView | None, version: int
) -> RecommendationView:
    if status is not CycleStatus.AWAITING_APPROVAL or recommendation is None:
        raise Refusal(f"the cycle is {status.value}, not waiting for approval")
    if version != recommendation.version:
        raise Refusal(
            f"version: v{version} is stale; the current recommendation is v{recommendation.version}"
        )
    return recommendation


def chosen_containers(rec: RecommendationView, request: ApproveRequest) -> list[int]:
    if request.containers is None:
        return [c.index for c in rec.containers]
    return list(request.containers)


def check_approval(
    status: CycleStatus, rec: RecommendationView | None, request: ApproveRequest
) -> None:
    """Refuse an approval that does not fit the recommendation waiting now: a stale version,
    unknown containers, edits outside the chosen containers, or quantities the planner's own
    rule set refuses (pack multiple, minimum order, discontinued product)."""
    rec = require_waiting(status, rec, request.version)
    chosen = chosen_containers(rec, request)
    if not chosen:
        raise Refusal("containers: choose at least one container to approve")
    if len(set(chosen)) != len(chosen):
        raise Refusal("containers: a container is chosen twice")
    known = {c.index for c in rec.containers}
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise Refusal(f"containers: no container {unknown[0]} in version {rec.version}")
    lines = {
        line.product_code: line
        for c in rec.containers
        if c.index in set(chosen)
        for line in c.lines
    }
    outside = sorted(set(request.edits) - set(lines))
    if outside:
        raise Refusal(f"edits.{outside[0]}: not a line of the chosen containers")
    products = [
        Product(
            code=line.product_code,
            name=line.name,
            pack_size=line.pack_size,
            moq=line.moq,
            status=ProductStatus.DISCONTINUED if line.discontinued else ProductStatus.ACTIVE,
        )
        for line in lines.values()
    ]
    try:
        validate_quantities(request.edits, products)
    except InvalidQuantity as err:
        raise Refusal(f"edits.{err.product_code}: {err.problem}") from None
    if all(request.edits.get(code, line.quantity) == 0 for code, line in lines.items()):
        raise Refusal("edits: every quantity is zero; reject the recommendation instead")
    if request.edits and rec.limits is not None:
        check_container_count(rec, chosen, request.edits, rec.limits)


def check_container_count(
    rec: RecommendationView,
    chosen: list[int],
    edits: dict[str, int],
    limits: ContainerLimitsView,
) -> None:
    """Refuse edits that pack into more or fewer containers than were chosen: each
    container is one ERP order, and the buyer approved this many."""
    picked = set(chosen)
    items = [
        [
            pack_item(
                line.product_code,
                line.quantity,
                pack_size=line.pack_size,
                moq=line.moq,
                urgent=line.urgent,
                carton_weight_kg=line.carton_weight_kg,
                carton_volume_m3=line.carton_volume_m3,
            )
            for line in c.lines
        ]
        for c in rec.containers
        if c.index in picked
    ]
    try:
        approved_containers(
            items, edits, Limits(limits.cartons, limits.weight_kg, limits.volume_m3)
        )
    except InvalidInput as err:
        raise Refusal(f"{err.field}: {err}") from None


def check_reject(
    status: CycleStatus, rec: RecommendationView | None, version: int, reason: str
) -> None:
    require_waiting(status, rec, version)
    if not reason.strip():
        raise Refusal("reason: say why the recommendation is rejected")


def check_refresh(status: CycleStatus) -> None:
    if status is not CycleStatus.AWAITING_APPROVAL:
        raise Refusal(f"the cycle is {status.value}, not waiting for approval")


def check_ops_decision(status: CycleStatus, choice_pending: bool) -> None:
    if status is not CycleStatus.SUBMISSION_FAILED or choice_pending:
        raise Refusal(f"the cycle is {status.value}, not a failed submission")


# --- waiting for a decision -------------------------------------------------------------------


class WaitStep(StrEnum):
    EXPIRE = "expire"
    AUTO_APPROVE = "auto_approve"
    REMIND = "remind"
    SLEEP = "sleep"


class WaitDeadlines(BaseModel):
    """When the wait for a decision expires, reminds and auto-approves; restarted whenever a
    new recommendation version starts waiting (a refresh or a review)."""

    since: datetime
    expires_at: datetime
    next_reminder: datetime
    auto_approve_at: datetime | None = None


def start_wait(now: datetime, policy: CyclePolicy) -> WaitDeadlines:
    grace = policy.auto_approve_urgent_after
    return WaitDeadlines(
        since=now,
        expires_at=now + policy.expire_after,
        next_reminder=now + policy.remind_every,
        auto_approve_at=now + grace if grace else None,
    )


def due_step(deadlines: WaitDeadlines, now: datetime, *, has_urgent: bool) -> WaitStep:
    """What the wait does at `now`: expiry first, then auto-approval (only when something is
    urgent), then a reminder; otherwise sleep until `next_wake`."""
    if now >= deadlines.expires_at:
        return WaitStep.EXPIRE
    if deadlines.auto_approve_at is not None and now >= deadlines.auto_approve_at and has_urgent:
        return WaitStep.AUTO_APPROVE
    if now >= deadlines.next_reminder:
        return WaitStep.REMIND
    return WaitStep.SLEEP


def after_step(
    deadlines: WaitDeadlines, step: WaitStep, now: datetime, policy: CyclePolicy
) -> WaitDeadlines:
    """The deadlines once `step` was taken at `now`: a reminder schedules the next; a passed
    auto-approval time that found nothing urgent is spent."""
    update: dict[str, object] = {}
    if step is WaitStep.REMIND:
        update["next_reminder"] = now + policy.remind_every
    if deadlines.auto_approve_at is not None and now >= deadlines.auto_approve_at:
        update["auto_approve_at"] = None
    return deadlines.model_copy(update=update)


def next_wake(deadlines: WaitDeadlines) -> datetime:
    """The earliest future deadline: the wait sleeps until then or until something happens.
    Nothing but a deadline wakes it, so a cycle left waiting costs no timers in between."""
    times = [deadlines.expires_at, deadlines.next_reminder]
    if deadlines.auto_approve_at is not None:
        times.append(deadlines.auto_approve_at)
    return min(times)


def sleep_for(deadlines: WaitDeadlines, now: datetime) -> timedelta:
    return max(next_wake(deadlines) - now, timedelta(seconds=1))


# --- reviews on cadence -----------------------------------------------------------------------


class ReviewAction(StrEnum):
    REFRESH = "refresh"
    REMIND_OPS = "remind_ops"
    SKIP = "skip"


def review_action(status: CycleStatus) -> ReviewAction:
    """What a review on the customer's cadence does with the cycle it finds still open (a
    closed one is followed by a new cycle): a refresh of a recommendation still waiting (fresh
    sync, new version, the expiry restarts), also of a run a failed refresh left stuck; a
    reminder to ops of a failed submission (nothing is planned over it); nothing while the
    cycle is busy syncing, planning, submitting or closing."""
    if status in (CycleStatus.AWAITING_APPROVAL, CycleStatus.FAILED):
        return ReviewAction.REFRESH
    if status is CycleStatus.SUBMISSION_FAILED:
        return ReviewAction.REMIND_OPS
    return ReviewAction.SKIP


# --- submission -------------------------------------------------------------------------------


def pending_orders(orders: list[OrderView]) -> list[OrderView]:
    """Orders the ERP has not accepted yet and nobody gave up on."""
    return [
        o for o in orders if o.erp_order_number is None and o.status not in ("cancelled", "failed")
    ]


def failure_summary(orders: list[OrderView]) -> str:
    return "; ".join(
        f"container {o.container_index}: {o.failure}" for o in orders if o.status == "failed"
    )


def submitted_summary(orders: list[OrderView]) -> str:
    accepted = [o for o in orders if o.erp_order_number]
    cancelled = [o for o in orders if o.status == "cancelled"]
    numbers = ", ".join(f"#{o.container_index} {o.erp_order_number}" for o in accepted)
    text = f"{len(accepted)} container(s) accepted by the ERP: {numbers}"
    if cancelled:
        text += f"; {len(cancelled)} cancelled"
    return text
