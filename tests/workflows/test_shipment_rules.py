"""The shipment's rules on their own: no server, no database, milliseconds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from workflows import shipment_rules as rules
from workflows.contract.shipment import Observation, ShipmentPolicy, ShipmentState, ShipmentStatus

PROMISED = date(2026, 5, 11)
BEFORE = PROMISED - timedelta(days=30)


def fresh() -> ShipmentState:
    return ShipmentState(
        workflow_id="shipment-1-SO-1",
        customer_id=1,
        customer_name="c",
        order_id=7,
        erp_order_number="SO-1",
        promised_eta=PROMISED,
        eta=PROMISED,
    )


def seen(status: str, eta: date | None = PROMISED, **kw: object) -> Observation:
    return Observation.model_validate({"status": status, "eta": eta, **kw})


def test_an_order_on_time_goes_shipped_then_delivered() -> None:
    state, changes = rules.apply(fresh(), seen("submitted"), BEFORE)
    assert changes == [] and state.status is ShipmentStatus.AWAITING_SHIPMENT
    assert state.checks == 1
    state, changes = rules.apply(state, seen("in_transit"), BEFORE + timedelta(days=7))
    assert [c.kind for c in changes] == ["shipped"]
    assert state.status is ShipmentStatus.IN_TRANSIT
    state, changes = rules.apply(state, seen("delivered", delivered_on=PROMISED), PROMISED)
    assert [c.kind for c in changes] == ["delivered"]
    assert state.status is ShipmentStatus.DELIVERED and state.finished and not state.late
    assert state.delivered_on == PROMISED


def test_a_delivery_seen_first_counts_as_shipped_too() -> None:
    _state, changes = rules.apply(fresh(), seen("delivered", delivered_on=PROMISED), PROMISED)
    assert [c.kind for c in changes] == ["shipped", "delivered"]


def test_an_eta_that_slips_past_the_promise_is_late_once() -> None:
    slipped = PROMISED + timedelta(days=10)
    state, changes = rules.apply(fresh(), seen("in_transit", slipped), BEFORE)
    assert [c.kind for c in changes] == ["eta_changed", "shipped", "late"]
    assert changes[0].eta_before == PROMISED and changes[0].eta_after == slipped
    assert state.status is ShipmentStatus.LATE and state.eta_changes == 1
    assert state.late_reason == "ETA 2026-05-21 is past the promised 2026-05-11"
    # The same news again changes nothing; a further slip is an ETA change, not a new "late".
    again, changes = rules.apply(state, seen("in_transit", slipped), BEFORE)
    assert changes == [] and again.status is ShipmentStatus.LATE
    later, changes = rules.apply(state, seen("in_transit", slipped + timedelta(days=3)), BEFORE)
    assert [c.kind for c in changes] == ["eta_changed"] and later.eta_changes == 2
    # Delivered after the promise: delivered, and it stays marked late.
    done, changes = rules.apply(later, seen("delivered", delivered_on=slipped), slipped)
    assert [c.kind for c in changes] == ["delivered"]
    assert done.status is ShipmentStatus.DELIVERED and done.late


def test_an_eta_that_passes_without_delivery_makes_it_late_by_the_calendar() -> None:
    state, _ = rules.apply(fresh(), seen("in_transit"), BEFORE)
    assert rules.lateness_deadline(state) is not None
    assert rules.lateness_deadline(state).date() == PROMISED + timedelta(days=1)  # type: ignore[union-attr]
    on_the_day, changes = rules.apply(state, None, PROMISED)
    assert changes == [] and not on_the_day.late
    day_after, changes = rules.apply(state, None, PROMISED + timedelta(days=1))
    assert [c.kind for c in changes] == ["late"]
    assert day_after.late_reason == "ETA 2026-05-11 passed without delivery"
    assert rules.lateness_deadline(day_after) is None  # no second late notice


def test_an_earlier_eta_is_a_change_but_not_late() -> None:
    state, changes = rules.apply(fresh(), seen("in_transit", PROMISED - timedelta(days=2)), BEFORE)
    assert [c.kind for c in changes] == ["eta_changed", "shipped"]
    assert not state.late


def test_stale_and_repeated_news_never_moves_a_shipment_backwards() -> None:
    state, _ = rules.apply(fresh(), seen("delivered", delivered_on=PROMISED), PROMISED)
    for stale in (seen("in_transit"), seen("submitted", PROMISED + timedelta(days=9))):
        after, changes = rules.apply(state, stale, PROMISED)
        assert changes == [] and after.status is ShipmentStatus.DELIVERED
        assert after.eta == PROMISED


def test_a_cancellation_ends_the_shipment_and_is_not_late() -> None:
    state, changes = rules.apply(fresh(), seen("cancelled", eta=None), PROMISED + timedelta(5))
    assert [c.kind for c in changes] == ["cancelled"]
    assert state.status is ShipmentStatus.CANCELLED and not state.late


def test_pushes_are_counted_and_remembered_by_event_id() -> None:
    state, _ = rules.apply(fresh(), seen("in_transit", source="push", event_id="EV-1"), BEFORE)
    assert state.pushes == 1 and state.checks == 0
    assert rules.known_event(state, "EV-1") and not rules.known_event(state, "EV-2")
    for n in range(rules.SEEN_EVENTS_KEPT + 5):
        state, _ = rules.apply(state, seen("in_transit", source="push", event_id=f"E{n}"), BEFORE)
    assert len(state.seen_events) == rules.SEEN_EVENTS_KEPT


def test_a_failed_check_count_resets_on_a_good_one() -> None:
    state = fresh().model_copy(update={"failed_checks": 2})
    state, _ = rules.apply(state, seen("submitted"), BEFORE)
    assert state.failed_checks == 0


@pytest.mark.parametrize(
    ("current", "changed", "expected"),
    [
        (timedelta(minutes=5), False, timedelta(minutes=10)),
        (timedelta(hours=4), False, timedelta(hours=6)),
        (timedelta(hours=6), True, timedelta(minutes=5)),
    ],
)
def test_checks_back_off_and_start_over_after_a_change(
    current: timedelta, changed: bool, expected: timedelta
) -> None:
    assert rules.next_interval(current, changed, ShipmentPolicy()) == expected


def test_who_hears_what_and_when_a_shipment_continues_as_new() -> None:
    _state, changes = rules.apply(fresh(), seen("in_transit", PROMISED + timedelta(1)), BEFORE)
    audiences = {c.kind: rules.audience(c) for c in changes}
    assert audiences == {
        "eta_changed": (True, False),
        "shipped": (True, False),
        "late": (True, True),
    }
    policy = ShipmentPolicy(continue_after_events=100)
    assert not rules.should_continue_as_new(99, False, policy)
    assert rules.should_continue_as_new(100, False, policy)
    assert rules.should_continue_as_new(10, True, policy)
