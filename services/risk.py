"""One vocabulary of stock risk, used by every page, export and count.

Cover comes in two kinds that must not be mixed: cover *on hand* (what is on the shelf) and
cover *with open orders* (on hand plus everything ordered and not yet delivered). "Runs out
today" beside "7.8 weeks of cover" was the second kind read as the first.

A product's risk is the first of these that holds:
- stocked out: nothing on hand while it sells;
- runs out before arrival: its projected run-out (open orders counted as they arrive) comes
  before an order placed today could arrive;
- below safety: it stays in stock but drops below its safety stock before then (the plan
  flags it urgent);
- excess: on hand alone covers more than the customer's maximum cover;
- too much on order: on hand plus open orders cover more than the maximum;
- ok.
Products the plan does not forecast (no history, discontinued) are `not_planned`; a product
whose stock the ERP did not report is `stock_unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum


class Risk(StrEnum):
    STOCKED_OUT = "stocked_out"
    RUNS_OUT_BEFORE_ARRIVAL = "runs_out_before_arrival"
    BELOW_SAFETY = "below_safety"
    EXCESS = "excess"
    TOO_MUCH_ON_ORDER = "too_much_on_order"
    OK = "ok"
    STOCK_UNKNOWN = "stock_unknown"
    NOT_PLANNED = "not_planned"


LABELS: dict[Risk, str] = {
    Risk.STOCKED_OUT: "stocked out now",
    Risk.RUNS_OUT_BEFORE_ARRIVAL: "runs out before an order can arrive",
    Risk.BELOW_SAFETY: "below safety stock before an order can arrive",
    Risk.EXCESS: "excess stock on hand",
    Risk.TOO_MUCH_ON_ORDER: "too much on order",
    Risk.OK: "ok",
    Risk.STOCK_UNKNOWN: "stock not reported",
    Risk.NOT_PLANNED: "not planned",
}
AT_RISK = frozenset({Risk.STOCKED_OUT, Risk.RUNS_OUT_BEFORE_ARRIVAL, Risk.BELOW_SAFETY})
OVERSTOCKED = frozenset({Risk.EXCESS, Risk.TOO_MUCH_ON_ORDER})


@dataclass(frozen=True)
class StockFacts:
    on_hand: int | None
    on_order: int
    weekly_forecast: float | None
    run_out_date: date | None
    urgent: bool
    arrival: date | None
    max_cover_weeks: float
    planned: bool = True


def cover_weeks(cartons: int | None, weekly_forecast: float | None) -> float | None:
    """Weeks `cartons` last at the weekly forecast; None when nothing sells (unbounded)."""
    if cartons is None or not weekly_forecast or weekly_forecast <= 0:
        return None
    return max(cartons, 0) / weekly_forecast


def on_hand_cover(facts: StockFacts) -> float | None:
    return cover_weeks(facts.on_hand, facts.weekly_forecast)


def cover_with_orders(facts: StockFacts) -> float | None:
    if facts.on_hand is None:
        return None
    return cover_weeks(max(facts.on_hand, 0) + facts.on_order, facts.weekly_forecast)


def assess(facts: StockFacts) -> Risk:
    selling = bool(facts.weekly_forecast and facts.weekly_forecast > 0)
    if not facts.planned:
        return Risk.NOT_PLANNED
    if facts.on_hand is None:
        return Risk.STOCK_UNKNOWN
    if selling and facts.on_hand <= 0:
        return Risk.STOCKED_OUT
    if (
        selling
        and facts.run_out_date is not None
        and facts.arrival is not None
        and facts.run_out_date < facts.arrival
    ):
        return Risk.RUNS_OUT_BEFORE_ARRIVAL
    if facts.urgent:
        return Risk.BELOW_SAFETY
    on_hand, with_orders = on_hand_cover(facts), cover_with_orders(facts)
    if on_hand is not None and on_hand > facts.max_cover_weeks:
        return Risk.EXCESS
    if with_orders is not None and with_orders > facts.max_cover_weeks:
        return Risk.TOO_MUCH_ON_ORDER
    return Risk.OK


def risk_after_order(previous: Risk, facts: StockFacts) -> Risk:
    """A product's risk once an order of it is placed (facts with the order counted as on
    order). The order arrives at the lead time, so nothing before then changes: a risk before
    arrival stays; stock beyond the maximum may now be on order."""
    if previous in AT_RISK or previous in (Risk.NOT_PLANNED, Risk.STOCK_UNKNOWN):
        return previous
    return assess(replace(facts, urgent=False, arrival=None))
