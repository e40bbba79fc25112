"""The Shipment's rules as plain functions: how an observation of the ERP order changes the
shipment, when it is late, who is told, and how often the ERP is asked.

No Temporal, no I/O, no clock (the workflow passes `today` in): fast unit tests in
tests/workflows/test_shipment_rules.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from workflows.contract.shipment import (
    ErpOrderState,
    Observation,
    ShipmentChange,
    ShipmentPolicy,
    ShipmentState,
    ShipmentStatus,
)

# How far along an ERP order is: an observation never moves a shipment backwards (a late or
# repeated push of "shipped" after "delivered" changes nothing).
PROGRESS: dict[ErpOrderState, int] = {
    "submitted": 0,
    "in_transit": 1,
    "delivered": 2,
    "cancelled": 2,
}
SEEN_EVENTS_KEPT = 50


def status_of(state: ShipmentState) -> ShipmentStatus:
    if state.erp_status == "delivered":
        return ShipmentStatus.DELIVERED
    if state.erp_status == "cancelled":
        return ShipmentStatus.CANCELLED
    if state.late:
        return ShipmentStatus.LATE
    if state.erp_status == "in_transit":
        return ShipmentStatus.IN_TRANSIT
    return ShipmentStatus.AWAITING_SHIPMENT


def late_reason(state: ShipmentState, today: date) -> str | None:
    """Why the order is late, or None: its ETA slipped past the date promised when the ERP
    accepted it, or the ETA passed without a delivery (or it was delivered after the
    promise)."""
    promised = state.promised_eta
    if state.erp_status == "cancelled":
        return None
    if state.erp_status == "delivered":
        if promised and state.delivered_on and state.delivered_on > promised:
            return f"delivered {state.delivered_on:%Y-%m-%d}, promised {promised:%Y-%m-%d}"
        return None
    if promised and state.eta and state.eta > promised:
        return f"ETA {state.eta:%Y-%m-%d} is past the promised {promised:%Y-%m-%d}"
    due = state.eta or promised
    if due and today > due:
        return f"ETA {due:%Y-%m-%d} passed without delivery"
    return None


def apply(
    state: ShipmentState, observation: Observation | None, today: date
) -> tuple[ShipmentState, list[ShipmentChange]]:
    """The shipment after `observation` (None: only the calendar moved, e.g. the ETA passed),
    with what changed, in the order it happened."""
    changes: list[ShipmentChange] = []
    new = state.model_copy(deep=True)
    if observation is not None:
        if observation.source == "push":
            new.pushes += 1
            if observation.event_id:
                new.seen_events = [*new.seen_events, observation.event_id][-SEEN_EVENTS_KEPT:]
        else:
            new.checks += 1
            new.failed_checks = 0
        changes += _follow(new, observation)
    reason = late_reason(new, today)
    if reason and not new.late:
        changes.append(ShipmentChange(kind="late", detail=reason, eta_after=new.eta))
    new.late = new.late or reason is not None
    if reason:
        new.late_reason = reason
    new.status = status_of(new)
    return new, changes


def _follow(state: ShipmentState, observation: Observation) -> list[ShipmentChange]:
    changes: list[ShipmentChange] = []
    moves_on = PROGRESS[observation.status] > PROGRESS[state.erp_status]
    stale = PROGRESS[observation.status] < PROGRESS[state.erp_status]
    finished = PROGRESS[state.erp_status] == PROGRESS["delivered"]
    if observation.eta and observation.eta != state.eta and not (finished or stale):
        if state.eta is not None and observation.status != "delivered":
            changes.append(
                ShipmentChange(
                    kind="eta_changed",
                    detail=f"ETA moved from {state.eta:%Y-%m-%d} to {observation.eta:%Y-%m-%d}",
                    eta_before=state.eta,
                    eta_after=observation.eta,
                )
            )
            state.eta_changes += 1
        state.eta = observation.eta
    if not moves_on:
        return changes
    if observation.status in ("in_transit", "delivered") and state.erp_status == "submitted":
        changes.append(ShipmentChange(kind="shipped", detail="shipped", eta_after=state.eta))
    state.erp_status = observation.status
    if observation.status == "delivered":
        state.delivered_on = observation.delivered_on or state.eta
        day = f" on {state.delivered_on:%Y-%m-%d}" if state.delivered_on else ""
        changes.append(ShipmentChange(kind="delivered", detail=f"delivered{day}"))
    elif observation.status == "cancelled":
        changes.append(ShipmentChange(kind="cancelled", detail="cancelled in the ERP"))
    return changes


def known_event(state: ShipmentState, event_id: str | None) -> bool:
    return event_id is not None and event_id in state.seen_events


def next_interval(current: timedelta, changed: bool, policy: ShipmentPolicy) -> timedelta:
    """Back-off between checks: back to the first interval after a change, else doubled up to
    the maximum."""
    if changed:
        return policy.poll_initial
    return min(current * 2, policy.poll_max)


def lateness_deadline(state: ShipmentState) -> datetime | None:
    """When the calendar alone makes the order late: the start of the day after its ETA
    (UTC), if it is neither late nor finished yet."""
    due = state.eta or state.promised_eta
    if due is None or state.late or state.finished:
        return None
    return datetime.combine(due + timedelta(days=1), time(0), tzinfo=UTC)


def audience(change: ShipmentChange) -> tuple[bool, bool]:
    """(the buyer, ops): who hears of a change. Ops hear of late orders only."""
    return True, change.kind == "late"


def should_continue_as_new(history_length: int, suggested: bool, policy: ShipmentPolicy) -> bool:
    return suggested or history_length >= policy.continue_after_events
