"""The one risk vocabulary, worked by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.risk import (
    Risk,
    StockFacts,
    assess,
    cover_with_orders,
    on_hand_cover,
    risk_after_order,
)

TODAY = date(2026, 12, 1)
ARRIVAL = date(2027, 1, 12)  # six weeks out
BASE = StockFacts(
    on_hand=700,
    on_order=300,
    weekly_forecast=100.0,
    run_out_date=date(2027, 3, 1),
    urgent=False,
    arrival=ARRIVAL,
    max_cover_weeks=26,
)


def test_cover_on_hand_and_with_orders_are_apart() -> None:
    assert on_hand_cover(BASE) == 7.0
    assert cover_with_orders(BASE) == 10.0
    assert on_hand_cover(replace(BASE, weekly_forecast=0)) is None
    assert on_hand_cover(replace(BASE, on_hand=-50)) == 0.0
    assert cover_with_orders(replace(BASE, on_hand=-50)) == 3.0


@pytest.mark.parametrize(
    ("change", "risk"),
    [
        ({}, Risk.OK),
        ({"on_hand": 0}, Risk.STOCKED_OUT),
        ({"on_hand": -3, "run_out_date": TODAY}, Risk.STOCKED_OUT),
        ({"run_out_date": date(2027, 1, 5)}, Risk.RUNS_OUT_BEFORE_ARRIVAL),
        ({"run_out_date": ARRIVAL}, Risk.OK),  # runs out the day the order lands: covered
        ({"urgent": True}, Risk.BELOW_SAFETY),
        ({"on_hand": 2_700}, Risk.EXCESS),  # 27 weeks on hand
        ({"on_hand": 2_400, "on_order": 300}, Risk.TOO_MUCH_ON_ORDER),  # 24 on hand, 27 with
        ({"on_hand": None}, Risk.STOCK_UNKNOWN),
        ({"planned": False, "on_hand": 0}, Risk.NOT_PLANNED),
        ({"on_hand": 0, "weekly_forecast": 0.0}, Risk.OK),  # nothing sells: not stocked out
    ],
)
def test_the_first_risk_that_holds(change: dict[str, object], risk: Risk) -> None:
    assert assess(replace(BASE, **change)) is risk  # type: ignore[arg-type]


def test_an_order_placed_now_changes_nothing_before_it_arrives() -> None:
    runs_out = replace(BASE, run_out_date=date(2027, 1, 5), on_order=5_000)
    assert risk_after_order(Risk.RUNS_OUT_BEFORE_ARRIVAL, runs_out) is Risk.RUNS_OUT_BEFORE_ARRIVAL
    assert risk_after_order(Risk.OK, replace(BASE, on_order=2_000)) is Risk.TOO_MUCH_ON_ORDER
    assert risk_after_order(Risk.OK, replace(BASE, on_order=500)) is Risk.OK
