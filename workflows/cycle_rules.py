"""The ReorderCycle's transition rules as plain functions: what an Update may do in each
state, when the wait for a decision wakes and what it does then, and what a review does.

No Temporal here, no I/O and no clock: the workflow passes `now` in. That keeps each rule a
fast unit test (tests/workflows/test_cycle_rules.py) and the workflow file about the loop.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from core.errors import InvalidInput
from planning.approval import approved_containers, pack_item
from planning.edits import validate_quantities
from planning.errors import InvalidQuantity
from planning.models import Product, ProductStatus
from planning.packing import Limits
from workflows.contract.cycle import (
    MAX_ADDED,
    OVER_LIMIT_FIELD,
    AddedProduct,
    ApproveRequest,
    Authority,
    ContainerLimitsView,
    CyclePolicy,
    CycleStatus,
    OrderView,
    ProposeRequest,
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


CREDIT_HOLD = (
    "credit: the ERP has this customer's credit on hold, so nothing can be ordered; ask the "
    "supplier's accounts team to release it (the next review or a refresh reads it again), or "
    "operations staff may approve with a reason"
)


def with_additions(
    rec: RecommendationView, chosen: list[int], added: list[AddedProduct]
) -> RecommendationView:
    """`rec` with the added products as lines of no quantity in the lowest chosen container,
    so the edits give them their quantity and every rule (values, credit, limits, the
    container count's re-pack over all chosen containers) sees them as any other line."""
    if not added or not chosen:
        return rec
    first = min(chosen)  # as the approval packs them: the chosen containers in index order
    return rec.model_copy(
        update={
            "containers": [
                c.model_copy(update={"lines": [*c.lines, *(a.as_line() for a in added)]})
                if c.index == first
                else c
                for c in rec.containers
            ]
        }
    )


def check_additions(rec: RecommendationView, request: ApproveRequest) -> None:
    """Added products are new to the recommendation, named once, and given a quantity."""
    if len(request.added) > MAX_ADDED:
        raise Refusal(
            f"edits: at most {MAX_ADDED:,} products the recommendation does not order are "
            "added at once"
        )
    ordered = {line.product_code: c.index for c in rec.containers for line in c.lines}
    seen: set[str] = set()
    for product in request.added:
        code = product.product_code
        if code in seen:
            raise Refusal(f"added.{code}: added twice")
        seen.add(code)
        if code in ordered:
            raise Refusal(
                f"added.{code}: already a line of container {ordered[code]} of "
                f"v{rec.version}; change its quantity instead"
            )
        if code not in request.edits:
            raise Refusal(f"edits.{code}: give the added product a quantity")


def check_approval(
    status: CycleStatus, rec: RecommendationView | None, request: ApproveRequest
) -> None:
    """Refuse an approval that does not fit the recommendation waiting now: a stale version,
    unknown containers, edits outside the chosen containers and the added products, or
    quantities the planner's own rule set refuses (pack multiple, minimum order,
    discontinued product)."""
    rec = require_waiting(status, rec, request.version)
    if rec.credit_hold and not (request.credit_override or "").strip():
        raise Refusal(CREDIT_HOLD)
    chosen = chosen_containers(rec, request)
    if not chosen:
        raise Refusal("containers: choose at least one container to approve")
    if len(set(chosen)) != len(chosen):
        raise Refusal("containers: a container is chosen twice")
    known = {c.index for c in rec.containers}
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise Refusal(f"containers: no container {unknown[0]} in version {rec.version}")
    check_additions(rec, request)
    rec = with_additions(rec, chosen, request.added)
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
    if not (request.credit_override or "").strip():
        check_credit(rec, chosen, request.edits)
    check_authority(rec, chosen, request.edits, request.authority)


def check_proposal(
    status: CycleStatus, rec: RecommendationView | None, request: ProposeRequest
) -> None:
    """A proposal must be a choice the cycle would take (it waits only for whom may approve
    it), from someone who may propose."""
    if not request.authority.may_propose:
        raise Refusal(f"the {request.authority.role} role may not propose an approval")
    check_approval(status, rec, as_approval(request))


def as_approval(request: ProposeRequest, authority: Authority | None = None) -> ApproveRequest:
    return ApproveRequest(
        version=request.version,
        containers=request.containers,
        edits=request.edits,
        added=request.added,
        actor=request.actor,
        authority=authority,
    )


def check_authority(
    rec: RecommendationView,
    chosen: list[int],
    edits: dict[str, int],
    authority: Authority | None,
) -> None:
    """Refuse an approval its author may not make (`Authority.covers`), saying why: the role, a line
    without a price under a limit, or the worth above it. Such a choice is proposed."""
    if authority is None:
        return
    if not authority.may_propose:
        raise Refusal(f"the {authority.role} role may not approve")
    unpriced = unpriced_codes(rec, chosen, edits)
    value = approval_value(rec, chosen, edits) or Decimal(0)
    if authority.covers(None if unpriced else value):
        return
    money = f" {rec.currency}" if rec.currency else ""
    limit = f"{authority.limit or Decimal(0):,.2f}{money}"
    if unpriced:
        raise Refusal(
            f"{OVER_LIMIT_FIELD}: {unpriced[0]} has no price, so what the approval is worth is "
            f"unknown and your limit is {limit}: propose it to an approver"
        )
    raise Refusal(
        f"{OVER_LIMIT_FIELD}: the containers chosen are worth {value:,.2f}{money}, above your "
        f"approval limit of {limit}: propose them to an approver"
    )


def unpriced_codes(rec: RecommendationView, chosen: list[int], edits: dict[str, int]) -> list[str]:
    """The products of the chosen containers that are ordered (after the edits) without a
    price: what they are worth is unknown."""
    picked = set(chosen)
    return sorted(
        {
            line.product_code
            for c in rec.containers
            if c.index in picked
            for line in c.lines
            if line.unit_price is None and edits.get(line.product_code, line.quantity) > 0
        }
    )


def approval_value(
    rec: RecommendationView, chosen: list[int], edits: dict[str, int]
) -> Decimal | None:
    """What the chosen containers are worth at their lines' prices, an edited product at
    its average price over them (the approval re-packs it); None when nothing is priced.
    Unrounded: the cycle compares, the ERP invoices."""
    picked = [c for c in rec.containers if c.index in set(chosen)]
    quantity: dict[str, int] = defaultdict(int)
    value: dict[str, Decimal] = defaultdict(Decimal)
    price: dict[str, Decimal] = {}
    for container in picked:
        for line in container.lines:
            if line.unit_price is not None:
                quantity[line.product_code] += line.quantity
                value[line.product_code] += line.unit_price * line.quantity
                price[line.product_code] = line.unit_price
    if not value:
        return None
    total = Decimal(0)
    for code, worth in value.items():
        edited = edits.get(code)
        if edited is None:
            total += worth
        elif quantity[code]:
            total += worth / quantity[code] * edited
        else:  # an added product: its price at the quantity it is added with
            total += price[code] * edited
    return total


def proposal_value(
    rec: RecommendationView, chosen: list[int], edits: dict[str, int]
) -> Decimal | None:
    """What a proposal is worth, to the cent; None when a line it orders has no price (its
    worth is unknown, so only an approver without a limit may approve it)."""
    value = approval_value(rec, chosen, edits)
    if unpriced_codes(rec, chosen, edits) or value is None:
        return None
    return value.quantize(Decimal("0.01"))


def check_credit(rec: RecommendationView, chosen: list[int], edits: dict[str, int]) -> None:
    """Refuse an approval worth more than the credit left at the sync, saying which of the
    chosen containers fit (in their order, urgent first)."""
    available = rec.available_credit
    value = approval_value(rec, chosen, edits)
    if available is None or value is None or value <= available:
        return
    money = f" {rec.currency}" if rec.currency else ""
    fit, used = [], Decimal(0)
    for index in chosen:
        worth = approval_value(rec, [index], {}) or Decimal(0)
        if used + worth <= available:
            fit.append(index)
            used += worth
    named = ", ".join(map(str, fit))
    fits = (
        "none of them fits on its own: "
        if not fit
        else f"container {named} fits ({used:,.2f}{money}): approve it, or "
        if len(fit) == 1
        else f"containers {named} fit ({used:,.2f}{money}): approve those, or "
    )
    raise Refusal(
        f"credit: the containers chosen are worth {value:,.2f}{money}, over the "
        f"{max(available, Decimal(0)):,.2f}{money} of credit left; {fits}ask the supplier's "
        "accounts team to raise the limit, or operations staff may approve with a reason"
    )


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


def auto_approvable(rec: RecommendationView, policy: CyclePolicy) -> list[int]:
    """The urgent containers an auto-approval takes: none while the credit is on hold;
    else in the plan's order, each that keeps the approval within the policy's container,
    carton and value caps and the credit left (a container over one on its own, or whose
    value cannot be known under a value cap or credit limit, is left for a person, and the
    next ones are still considered)."""
    taken: list[int] = []
    cartons, value = 0, Decimal(0)
    if rec.credit_hold:
        return taken
    caps = [c for c in (policy.auto_approve_max_value, rec.available_credit) if c is not None]
    cap = min(caps) if caps else None
    for container in rec.containers:
        if not container.urgent:
            continue
        if (
            policy.auto_approve_max_containers is not None
            and len(taken) >= policy.auto_approve_max_containers
        ):
            break
        if (
            policy.auto_approve_max_cartons is not None
            and cartons + container.cartons > policy.auto_approve_max_cartons
        ):
            continue
        worth = container.known_value
        if cap is not None and (worth is None or value + worth > cap):
            continue
        taken.append(container.index)
        cartons += container.cartons
        value += worth or Decimal(0)
    return taken


def held_back(rec: RecommendationView, policy: CyclePolicy) -> list[int]:
    """The urgent containers the caps keep from an auto-approval."""
    taken = set(auto_approvable(rec, policy))
    return [i for i in rec.urgent_indexes if i not in taken]


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
    if auto_time_passed(deadlines, now):
        update["auto_approve_at"] = None
    return deadlines.model_copy(update=update)


def auto_time_passed(deadlines: WaitDeadlines, now: datetime) -> bool:
    """The auto-approval time has come and was not yet spent (`after_step` spends it)."""
    return deadlines.auto_approve_at is not None and now >= deadlines.auto_approve_at


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
