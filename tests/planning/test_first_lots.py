"""A product never stocked whose last order was cancelled gets that first lot again; every
condition that says otherwise (stock, something on order, a later order that stands, a
snooze, a history to forecast from) keeps the plan's usual rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from planning import PlanStatus, plan
from planning.first_lots import cancelled_first_lots
from planning.models import ErpOrder, OrderLine, OrderStatus
from tests.planning.factories import AS_OF, plan_input, product, weekly_shipments

FLAT = {
    "forecast_method": "trailing_average",
    "lead_time_weeks": 4,
    "target_soh_weeks": 6,
    "safety_weeks": 2,
    "safety_stock_mode": "weeks",
    "last_container": "keep",
    "measure_lead_time": False,
}


def _order(
    code: str, quantity: int, status: OrderStatus, weeks_ago: int, number: str = "SO-1"
) -> ErpOrder:
    ordered_on = AS_OF - timedelta(weeks=weeks_ago)
    return ErpOrder(
        order_number=number,
        status=status,
        ordered_on=ordered_on,
        eta=ordered_on + timedelta(weeks=4),
        delivered_on=(ordered_on + timedelta(weeks=4) if status is OrderStatus.DELIVERED else None),
        lines=[OrderLine(product_code=code, quantity=quantity)],
    )


def test_the_latest_order_decides_and_one_that_stands_wins_a_tie() -> None:
    orders = [
        _order("A", 50, OrderStatus.DELIVERED, 10, "SO-1"),
        _order("A", 70, OrderStatus.CANCELLED, 3, "SO-2"),  # latest for A: cancelled
        _order("B", 40, OrderStatus.CANCELLED, 6, "SO-3"),
        _order("B", 45, OrderStatus.DELIVERED, 2, "SO-4"),  # a later one stood
        _order("C", 30, OrderStatus.CANCELLED, 2, "SO-5"),
        _order("C", 35, OrderStatus.IN_TRANSIT, 2, "SO-6"),  # same day, stands
        _order("X", 99, OrderStatus.CANCELLED, 1, "SO-7"),  # not in the catalogue
    ]
    assert cancelled_first_lots(["A", "B", "C", "D"], orders).tolist() == [70, 0, 0, 0]


def test_a_never_stocked_product_gets_its_cancelled_first_lot_with_the_reason() -> None:
    inp = plan_input([product("NEW", pack_size=12, stock_on_hand=0)], **FLAT)
    inp.cancelled_orders = [_order("NEW", 100, OrderStatus.CANCELLED, 3)]
    rec = plan(inp)
    (line,) = rec.lines
    assert line.product_code == "NEW"
    assert line.quantity == 108  # 100 rounded up to packs of 12
    assert line.explanation is not None
    assert line.explanation.need_cartons == 100
    assert "its last order, for 100 cartons, was cancelled" in line.explanation.text
    assert "Order 108" in line.explanation.text
    (shown,) = rec.products
    assert shown.status is PlanStatus.REORDER and shown.ordered_quantity == 108
    assert shown.note is not None and "first lot is ordered again" in shown.note


@pytest.mark.parametrize(
    ("why", "stock", "on_order", "snoozed", "later_stands"),
    [
        ("stock on hand", 5, False, False, False),
        ("already on order", 0, True, False, False),
        ("snoozed", 0, False, True, False),
        ("a later order stood", 0, False, False, True),
    ],
)
def test_no_first_lot_when_something_else_says_no(
    why: str, stock: int, on_order: bool, snoozed: bool, later_stands: bool
) -> None:
    inp = plan_input([product("NEW", stock_on_hand=stock)], **FLAT)
    inp.cancelled_orders = [_order("NEW", 100, OrderStatus.CANCELLED, 6)]
    if on_order:
        inp.pipeline = [_order("NEW", 20, OrderStatus.IN_TRANSIT, 1, "SO-9")]
    if later_stands:
        inp.order_history = [_order("NEW", 20, OrderStatus.DELIVERED, 5, "SO-9")]
    if snoozed:
        inp.snoozed = {"NEW": AS_OF + timedelta(weeks=4)}
    rec = plan(inp)
    assert rec.lines == [], why
    (shown,) = rec.products
    assert shown.ordered_quantity == 0, why


def test_a_product_with_history_is_planned_from_it_not_from_the_cancelled_lot() -> None:
    inp = plan_input([product("A", stock_on_hand=0)], weekly_shipments("A", [100] * 20), **FLAT)
    inp.cancelled_orders = [_order("A", 5, OrderStatus.CANCELLED, 1)]
    (line,) = plan(inp).lines
    assert line.explanation is not None
    assert line.quantity == 800  # target 600 + safety 200, nothing at arrival
    assert "cancelled" not in line.explanation.text
