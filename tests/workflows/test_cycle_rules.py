"""The cycle's transition rules on their own: no server, no database, milliseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from workflows import cycle_rules as rules
from workflows.contract.cycle import (
    AddedProduct,
    ApproveRequest,
    Authority,
    ContainerLimitsView,
    ContainerView,
    CyclePolicy,
    CycleStatus,
    LineView,
    OrderView,
    ProposeRequest,
    RecommendationView,
)

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
POLICY = CyclePolicy(
    remind_every=timedelta(hours=24),
    expire_after=timedelta(hours=72),
    auto_approve_urgent_after=timedelta(hours=6),
)


def line(code: str, quantity: int, *, pack: int = 10, moq: int = 20, **kw: bool) -> LineView:
    return LineView(
        product_code=code,
        name=code,
        quantity=quantity,
        pack_size=pack,
        moq=moq,
        urgent=kw.get("urgent", False),
        discontinued=kw.get("discontinued", False),
    )


REC = RecommendationView(
    version=3,
    summary="2 containers",
    containers=[
        ContainerView(index=1, cartons=100, fill_pct=99, urgent=True, lines=[line("A", 100)]),
        ContainerView(
            index=2,
            cartons=60,
            fill_pct=60,
            urgent=False,
            lines=[line("B", 40), line("OLD", 20, discontinued=True)],
        ),
    ],
)
WAITING = CycleStatus.AWAITING_APPROVAL


def approve(**kw: object) -> ApproveRequest:
    return ApproveRequest.model_validate({"version": 3, "actor": "buyer", **kw})


# --- decisions --------------------------------------------------------------------------------


def test_an_approval_of_the_waiting_version_passes() -> None:
    rules.check_approval(WAITING, REC, approve())
    rules.check_approval(WAITING, REC, approve(containers=[2], edits={"B": 50}))
    rules.check_approval(WAITING, REC, approve(containers=[1]))


@pytest.mark.parametrize(
    ("status", "request_", "message"),
    [
        (CycleStatus.SUBMITTING, approve(), "the cycle is submitting, not waiting for approval"),
        (WAITING, approve(version=2), "version: v2 is stale; the current recommendation is v3"),
        (WAITING, approve(containers=[]), "containers: choose at least one container"),
        (WAITING, approve(containers=[7]), "containers: no container 7 in version 3"),
        (WAITING, approve(containers=[1], edits={"B": 50}), "edits.B: not a line of the chosen"),
        (WAITING, approve(edits={"A": 105}), "edits.A: quantity 105 is not a multiple of the pack"),
        (WAITING, approve(edits={"A": 10}), "edits.A: quantity 10 is below the minimum order 20"),
        (WAITING, approve(edits={"A": -10}), "edits.A: quantity -10 is negative"),
        (WAITING, approve(containers=[1], edits={"A": 0}), "edits: every quantity is zero"),
    ],
)
def test_an_approval_that_does_not_apply_is_refused_with_the_field(
    status: CycleStatus, request_: ApproveRequest, message: str
) -> None:
    with pytest.raises(rules.Refusal) as refused:
        rules.check_approval(status, REC, request_)
    assert message in str(refused.value)


def test_the_planners_rule_set_refuses_a_discontinued_product() -> None:
    """One rule set for edits: the workflow refuses what `planning.validate_quantities` does
    (the validator of old accepted a discontinued product)."""
    with pytest.raises(rules.Refusal, match=r"edits\.OLD: product is discontinued"):
        rules.check_approval(WAITING, REC, approve(containers=[2], edits={"OLD": 40}))
    rules.check_approval(WAITING, REC, approve(containers=[2], edits={"OLD": 0}))


LIMITED = REC.model_copy(update={"limits": ContainerLimitsView(cartons=100)})


def test_an_extra_zero_that_needs_more_containers_is_refused_with_the_count() -> None:
    """Each container is one ERP order: 100 -> 1,000 cartons would make 10 orders where
    the buyer chose 1. Within the container, an edit passes."""
    with pytest.raises(rules.Refusal) as refused:
        rules.check_approval(WAITING, LIMITED, approve(containers=[1], edits={"A": 1000}))
    message = str(refused.value)
    assert message.startswith("edits: the edited quantities (1,000 cartons) need 10 containers")
    assert "1 was chosen: approving would send 10 ERP orders" in message
    rules.check_approval(WAITING, LIMITED, approve(containers=[1], edits={"A": 90}))
    rules.check_approval(WAITING, LIMITED, approve(containers=[2], edits={"B": 80}))


def test_edits_that_would_merge_two_chosen_containers_are_refused() -> None:
    with pytest.raises(rules.Refusal, match=r"edits: .* fit in 1 container, but 2 were chosen"):
        rules.check_approval(WAITING, LIMITED, approve(edits={"A": 40}))
    with pytest.raises(rules.Refusal, match="a container is chosen twice"):
        rules.check_approval(WAITING, LIMITED, approve(containers=[1, 1]))


def test_a_weight_limit_counts_like_cartons() -> None:
    heavy = LIMITED.model_copy(
        update={
            "limits": ContainerLimitsView(cartons=100, weight_kg=1000),
            "containers": [
                ContainerView(
                    index=1,
                    cartons=50,
                    fill_pct=100,
                    urgent=False,
                    lines=[line("A", 50).model_copy(update={"carton_weight_kg": 20.0})],
                )
            ],
        }
    )
    rules.check_approval(WAITING, heavy, approve(edits={"A": 40}))
    with pytest.raises(rules.Refusal, match="need 2 containers of at most 100 cartons, 1,000 kg"):
        rules.check_approval(WAITING, heavy, approve(edits={"A": 60}))


def test_a_view_recorded_before_limits_keeps_the_old_rules() -> None:
    rules.check_approval(WAITING, REC, approve(containers=[1], edits={"A": 1000}))


def test_reject_refresh_and_ops_decisions_apply_only_where_they_should() -> None:
    rules.check_reject(WAITING, REC, 3, "stock count pending")
    with pytest.raises(rules.Refusal, match="reason: say why"):
        rules.check_reject(WAITING, REC, 3, "   ")
    with pytest.raises(rules.Refusal, match="stale"):
        rules.check_reject(WAITING, REC, 2, "x")
    rules.check_refresh(WAITING)
    with pytest.raises(rules.Refusal, match="refreshing, not waiting"):
        rules.check_refresh(CycleStatus.REFRESHING)
    rules.check_ops_decision(CycleStatus.SUBMISSION_FAILED, choice_pending=False)
    with pytest.raises(rules.Refusal, match="not a failed submission"):
        rules.check_ops_decision(CycleStatus.SUBMISSION_FAILED, choice_pending=True)
    with pytest.raises(rules.Refusal, match="submitted, not a failed submission"):
        rules.check_ops_decision(CycleStatus.SUBMITTED, choice_pending=False)


# --- waiting ----------------------------------------------------------------------------------


def test_the_wait_sleeps_until_the_next_deadline_only() -> None:
    deadlines = rules.start_wait(T0, POLICY)
    assert deadlines.expires_at == T0 + timedelta(hours=72)
    assert rules.next_wake(deadlines) == T0 + timedelta(hours=6)  # the auto-approval
    assert rules.due_step(deadlines, T0, has_urgent=True) is rules.WaitStep.SLEEP
    assert rules.sleep_for(deadlines, T0) == timedelta(hours=6)
    # Nothing urgent at the grace period: it is spent, and the next wake is the reminder.
    at_grace = T0 + timedelta(hours=6)
    step = rules.due_step(deadlines, at_grace, has_urgent=False)
    assert step is rules.WaitStep.SLEEP
    deadlines = rules.after_step(deadlines, step, at_grace, POLICY)
    assert deadlines.auto_approve_at is None
    assert rules.sleep_for(deadlines, at_grace) == timedelta(hours=18)


def test_urgent_containers_are_auto_approved_at_the_grace_period() -> None:
    deadlines = rules.start_wait(T0, POLICY)
    at_grace = T0 + timedelta(hours=6)
    assert rules.due_step(deadlines, at_grace, has_urgent=True) is rules.WaitStep.AUTO_APPROVE


def test_reminders_come_every_interval_and_expiry_wins_over_them() -> None:
    policy = POLICY.model_copy(update={"auto_approve_urgent_after": None})
    deadlines = rules.start_wait(T0, policy)
    day = timedelta(hours=24)
    reminders = 0
    now = T0
    while True:
        now = rules.next_wake(deadlines)
        step = rules.due_step(deadlines, now, has_urgent=False)
        if step is rules.WaitStep.EXPIRE:
            break
        assert step is rules.WaitStep.REMIND
        reminders += 1
        deadlines = rules.after_step(deadlines, step, now, policy)
    assert reminders == 2 and now == T0 + 3 * day


def test_a_wait_never_asks_for_a_wake_up_in_the_past_or_every_second() -> None:
    deadlines = rules.start_wait(T0, POLICY)
    late = T0 + timedelta(days=30)
    assert rules.sleep_for(deadlines, late) == timedelta(seconds=1)
    assert rules.sleep_for(deadlines, T0) == timedelta(hours=6)


# --- reviews ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (CycleStatus.AWAITING_APPROVAL, rules.ReviewAction.REFRESH),
        (CycleStatus.FAILED, rules.ReviewAction.REFRESH),  # a run a failed refresh left stuck
        (CycleStatus.SUBMISSION_FAILED, rules.ReviewAction.REMIND_OPS),
        (CycleStatus.SYNCING, rules.ReviewAction.SKIP),
        (CycleStatus.REFRESHING, rules.ReviewAction.SKIP),
        (CycleStatus.APPROVING, rules.ReviewAction.SKIP),
        (CycleStatus.SUBMITTING, rules.ReviewAction.SKIP),
        (CycleStatus.TRACKING, rules.ReviewAction.SKIP),
        (CycleStatus.SUBMITTED, rules.ReviewAction.SKIP),
    ],
)
def test_what_a_review_does_with_the_open_cycle(
    status: CycleStatus, action: rules.ReviewAction
) -> None:
    assert rules.review_action(status) is action


# --- submission -------------------------------------------------------------------------------


def test_pending_orders_and_summaries() -> None:
    orders = [
        OrderView(order_id=1, container_index=1, idempotency_key="k1", cartons=10),
        OrderView(
            order_id=2, container_index=2, idempotency_key="k2", cartons=10,
            status="submitted", erp_order_number="SO-2",
        ),
        OrderView(
            order_id=3, container_index=3, idempotency_key="k3", cartons=10,
            status="failed", failure="E_CREDIT_HOLD",
        ),
        OrderView(
            order_id=4, container_index=4, idempotency_key="k4", cartons=10, status="cancelled"
        ),
    ]  # fmt: skip
    assert [o.order_id for o in rules.pending_orders(orders)] == [1]
    assert rules.failure_summary(orders) == "container 3: E_CREDIT_HOLD"
    assert rules.submitted_summary(orders) == (
        "1 container(s) accepted by the ERP: #2 SO-2; 1 cancelled"
    )


URGENT_THREE = RecommendationView(
    version=4,
    summary="4 containers",
    containers=[
        ContainerView(index=1, cartons=900, fill_pct=90, urgent=True, lines=[line("A", 900)]),
        ContainerView(index=2, cartons=1000, fill_pct=100, urgent=False, lines=[line("B", 1000)]),
        ContainerView(index=3, cartons=1000, fill_pct=100, urgent=True, lines=[line("C", 1000)]),
        ContainerView(index=4, cartons=500, fill_pct=50, urgent=True, lines=[line("D", 500)]),
    ],
)


@pytest.mark.parametrize(
    ("caps", "taken", "held"),
    [
        ({}, [1, 3, 4], []),  # no caps: every urgent container, as before
        ({"auto_approve_max_containers": 2}, [1, 3], [4]),
        ({"auto_approve_max_cartons": 1_500}, [1, 4], [3]),  # 3 would make 1,900; 4 fits
        ({"auto_approve_max_cartons": 1_000, "auto_approve_max_containers": 1}, [1], [3, 4]),
        ({"auto_approve_max_cartons": 400}, [], [1, 3, 4]),  # none fits: a person decides
    ],
)
def test_auto_approval_keeps_within_its_caps(
    caps: dict[str, int], taken: list[int], held: list[int]
) -> None:
    policy = POLICY.model_copy(update=caps)
    assert rules.auto_approvable(URGENT_THREE, policy) == taken
    assert rules.held_back(URGENT_THREE, policy) == held


def test_caps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="auto_approve_max_cartons"):
        CyclePolicy(auto_approve_max_cartons=0)


def test_a_credit_hold_refuses_approval_and_auto_approval_takes_nothing() -> None:
    held = REC.model_copy(update={"credit_hold": True})
    with pytest.raises(rules.Refusal, match="credit on hold"):
        rules.check_approval(WAITING, held, approve())
    with pytest.raises(rules.Refusal, match="credit on hold"):
        rules.check_approval(WAITING, held, approve(credit_override="  "))
    rules.check_approval(WAITING, held, approve(credit_override="paid by wire"))
    assert rules.auto_approvable(held, POLICY) == []
    assert rules.held_back(held, POLICY) == [1]


def _priced(
    index: int, code: str, quantity: int, price: str, urgent: bool = False
) -> ContainerView:
    return ContainerView(
        index=index,
        cartons=quantity,
        fill_pct=100,
        urgent=urgent,
        lines=[
            LineView(
                product_code=code,
                name=code,
                quantity=quantity,
                pack_size=10,
                moq=0,
                urgent=urgent,
                unit_price=Decimal(price),
            )
        ],
    )


PRICED = RecommendationView(
    version=3,
    summary="3 containers",
    containers=[
        _priced(1, "A", 1_000, "2.50", urgent=True),  # 2,500.00
        _priced(2, "B", 1_000, "4.00"),  # 4,000.00
        _priced(3, "C", 1_000, "1.00"),  # 1,000.00
    ],
    available_credit=Decimal("3600.00"),
    currency="EUR",
)


def test_an_approval_over_the_credit_left_is_refused_saying_what_fits() -> None:
    assert rules.approval_value(PRICED, [1, 2, 3], {}) == Decimal("7500.00")
    with pytest.raises(rules.Refusal) as refused:
        rules.check_approval(WAITING, PRICED, approve())
    text = str(refused.value)
    assert "worth 7,500.00 EUR, over the 3,600.00 EUR of credit left" in text
    assert "containers 1, 3 fit (3,500.00 EUR)" in text  # 2 would make 6,500
    rules.check_approval(WAITING, PRICED, approve(containers=[1, 3]))  # 3,500: fits
    # An edit down brings it under: A at 600 cartons is worth 1,500.00, with B 5,500.00.
    with pytest.raises(rules.Refusal, match=re.escape("worth 5,500.00 EUR")):
        rules.check_approval(WAITING, PRICED, approve(containers=[1, 2], edits={"A": 600}))
    rules.check_approval(WAITING, PRICED, approve(containers=[2], edits={"B": 800}))  # 3,200
    rules.check_approval(WAITING, PRICED, approve(credit_override="limit raised by phone"))
    unlimited = PRICED.model_copy(update={"available_credit": None})
    rules.check_approval(WAITING, unlimited, approve())
    broke = PRICED.model_copy(update={"available_credit": Decimal("-50")})
    with pytest.raises(
        rules.Refusal, match=re.escape("over the 0.00 EUR of credit left; none of them")
    ):
        rules.check_approval(WAITING, broke, approve())


def test_auto_approval_keeps_within_its_value_cap() -> None:
    # Container 4's line has no price: its value (0 of its priced lines) cannot be known.
    worth = {1: ("900.00", 0), 2: ("50.00", 0), 3: ("1000.00", 0), 4: ("0", 1)}
    valued = URGENT_THREE.model_copy(
        update={
            "containers": [
                c.model_copy(
                    update={
                        "value": Decimal(worth[c.index][0]),
                        "unpriced_lines": worth[c.index][1],
                    }
                )
                for c in URGENT_THREE.containers
            ]
        }
    )
    assert rules.auto_approvable(valued, POLICY) == [1, 3, 4]  # no cap: as before
    capped = POLICY.model_copy(update={"auto_approve_max_value": Decimal("1500")})
    assert rules.auto_approvable(valued, capped) == [1]  # 3 would make 1,900; 4 has no value
    assert rules.held_back(valued, capped) == [3, 4]
    roomy = POLICY.model_copy(update={"auto_approve_max_value": Decimal("1900.00")})
    assert rules.auto_approvable(valued, roomy) == [1, 3]
    # The credit left caps it too, the lower of the two deciding.
    short = valued.model_copy(update={"available_credit": Decimal("1000.00")})
    assert rules.auto_approvable(short, POLICY) == [1]
    assert rules.auto_approvable(short, roomy) == [1]
    assert (
        rules.auto_approvable(valued.model_copy(update={"available_credit": Decimal("-1")}), POLICY)
        == []
    )


def test_an_approval_above_its_authors_limit_is_refused_and_may_be_proposed() -> None:
    unlimited_credit = PRICED.model_copy(update={"available_credit": None})

    def as_(role: str, limit: str | None, **choice: Any) -> ApproveRequest:
        authority = Authority(role=role, limit=None if limit is None else Decimal(limit))
        return approve(authority=authority, **choice)

    rules.check_approval(WAITING, unlimited_credit, as_("approver", None))
    rules.check_approval(WAITING, unlimited_credit, as_("ops", "0"))  # ops have no limit
    rules.check_approval(WAITING, unlimited_credit, as_("buyer", "7500.00"))  # at the limit
    with pytest.raises(rules.Refusal) as refused:
        rules.check_approval(
            WAITING, unlimited_credit, as_("approver", "3499.99", containers=[1, 3])
        )
    assert str(refused.value) == (
        "approval_limit: the containers chosen are worth 3,500.00 EUR, above your approval "
        "limit of 3,499.99 EUR: propose them to an approver"
    )
    # An edit down brings it within: B at 500 cartons is worth 2,000.00.
    rules.check_approval(
        WAITING, unlimited_credit, as_("buyer", "2000", containers=[2], edits={"B": 500})
    )
    with pytest.raises(rules.Refusal, match="the viewer role may not approve"):
        rules.check_approval(WAITING, unlimited_credit, as_("viewer", None))
    # A buyer without a limit approves nothing himself (an approver without one, anything).
    with pytest.raises(rules.Refusal, match=re.escape("above your approval limit of 0.00 EUR")):
        rules.check_approval(WAITING, unlimited_credit, as_("buyer", None, containers=[3]))
    # What a proposal is worth: to the cent, or unknown when a line it orders has no price.
    assert rules.proposal_value(unlimited_credit, [2], {"B": 10}) == Decimal("40.00")
    assert rules.approval_value(unlimited_credit, [1, 3], {}) == Decimal("3500.00")
    # An edit prices the product at its average over the containers: 1/3 of 10.00 ...
    lumpy = unlimited_credit.model_copy(deep=True)
    lumpy.containers[2].lines[0].unit_price = Decimal("0.01")
    assert rules.proposal_value(lumpy, [3], {"C": 333}) == Decimal("3.33")
    # Under a limit, a line without a price makes the worth unknown: it is proposed.
    unpriced = unlimited_credit.model_copy(deep=True)
    unpriced.containers[2].lines[0].unit_price = None
    with pytest.raises(rules.Refusal, match="approval_limit: C has no price"):
        rules.check_approval(WAITING, unpriced, as_("approver", "1000000", containers=[3]))
    rules.check_approval(WAITING, unpriced, as_("approver", None, containers=[3]))
    assert rules.proposal_value(unpriced, [1, 3], {}) is None
    assert rules.proposal_value(unpriced, [1, 3], {"C": 0}) == Decimal("2500.00")
    # ... unless that line is edited to nothing.
    rules.check_approval(WAITING, unpriced, as_("buyer", "2500", containers=[1, 3], edits={"C": 0}))

    proposal = ProposeRequest(
        version=3, containers=[2], actor="user:b", authority=Authority(role="buyer", limit=0)
    )
    rules.check_proposal(WAITING, unlimited_credit, proposal)  # above the limit: fine
    with pytest.raises(rules.Refusal, match="the viewer role may not propose"):
        rules.check_proposal(
            WAITING,
            unlimited_credit,
            proposal.model_copy(update={"authority": Authority(role="viewer")}),
        )
    with pytest.raises(rules.Refusal, match="version: v2 is stale"):
        rules.check_proposal(WAITING, unlimited_credit, proposal.model_copy(update={"version": 2}))


# --- products the recommendation does not order -----------------------------------------------


def added(
    code: str, *, pack: int = 10, moq: int = 20, price: str | None = None, **kw: bool
) -> AddedProduct:
    return AddedProduct(
        product_code=code,
        name=f"{code} name",
        pack_size=pack,
        moq=moq,
        discontinued=kw.get("discontinued", False),
        unit_price=None if price is None else Decimal(price),
    )


def test_an_added_product_is_checked_and_packed_like_a_line() -> None:
    """The buyer adds NEW to container 2 (60 of 100 cartons): 40 fit; 50 would need a
    second container; 15 is not a pack multiple; 10 is below the minimum order."""
    rules.check_approval(
        WAITING, LIMITED, approve(containers=[2], edits={"NEW": 40}, added=[added("NEW")])
    )
    # Room made by editing another line down is room for the addition.
    rules.check_approval(
        WAITING, LIMITED, approve(containers=[2], edits={"B": 20, "NEW": 60}, added=[added("NEW")])
    )
    refusals = {
        "need 2 containers": approve(containers=[2], edits={"NEW": 50}, added=[added("NEW")]),
        "edits.NEW: quantity 15 is not a multiple of the pack size 10": approve(
            containers=[2], edits={"NEW": 15}, added=[added("NEW")]
        ),
        "edits.NEW: quantity 10 is below the minimum order 20": approve(
            containers=[2], edits={"NEW": 10}, added=[added("NEW")]
        ),
        "edits.GONE: product is discontinued": approve(
            containers=[2], edits={"GONE": 20}, added=[added("GONE", discontinued=True)]
        ),
        "edits.NEW: give the added product a quantity": approve(
            containers=[2], added=[added("NEW")]
        ),
        "added.NEW: added twice": approve(
            containers=[2], edits={"NEW": 20}, added=[added("NEW"), added("NEW")]
        ),
        "added.A: already a line of container 1 of v3; change its quantity instead": approve(
            containers=[2], edits={"A": 20}, added=[added("A")]
        ),
        "edits.ELSE: not a line of the chosen containers": approve(
            containers=[2], edits={"NEW": 20, "ELSE": 20}, added=[added("NEW")]
        ),
    }
    for message, request in refusals.items():
        with pytest.raises(rules.Refusal, match=re.escape(message)):
            rules.check_approval(WAITING, LIMITED, request)


def test_an_added_product_counts_at_its_price_for_credit_and_limits() -> None:
    """Container 3 (C: 1,000.00) with 200 cartons of NEW at 5.00 is worth 2,000.00; a
    price the ERP's list does not give leaves the worth unknown."""
    plus_new = approve(
        containers=[3], edits={"NEW": 200}, added=[added("NEW", moq=0, price="5.00")]
    )
    assert rules.proposal_value(
        rules.with_additions(PRICED, [3], plus_new.added), [3], plus_new.edits
    ) == Decimal("2000.00")
    rules.check_approval(WAITING, PRICED, plus_new)  # 2,000.00 of 3,600.00 credit
    too_much = plus_new.model_copy(update={"edits": {"NEW": 600}})  # 4,000.00
    with pytest.raises(rules.Refusal, match=re.escape("worth 4,000.00 EUR, over the 3,600.00")):
        rules.check_approval(WAITING, PRICED, too_much)
    buyer = Authority(role="buyer", limit=Decimal("1500"))
    with pytest.raises(rules.Refusal, match=re.escape("worth 2,000.00 EUR, above your approval")):
        rules.check_approval(WAITING, PRICED, plus_new.model_copy(update={"authority": buyer}))
    unpriced = approve(containers=[3], edits={"NEW": 200}, added=[added("NEW", moq=0)])
    with pytest.raises(rules.Refusal, match="approval_limit: NEW has no price"):
        rules.check_approval(WAITING, PRICED, unpriced.model_copy(update={"authority": buyer}))
    # The recommendation itself is not changed by a check.
    assert all(line.product_code != "NEW" for c in PRICED.containers for line in c.lines)
