"""End-to-end `plan()` on hand-checked examples and on every edge case of the issue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from planning import PlanStatus, Recommendation, plan
from planning.errors import UnpackableProduct
from planning.models import OrderStatus, ProductStatus
from planning.schemas import PlanInput
from tests.planning.factories import (
    AS_OF,
    order,
    plan_input,
    product,
    weekly_consumption,
    weekly_shipments,
)

FLAT = {
    "forecast_method": "trailing_average",
    "lead_time_weeks": 4,
    "target_soh_weeks": 6,
    "safety_weeks": 2,
    "safety_stock_mode": "weeks",
    "last_container": "keep",
    "measure_lead_time": False,
}


def test_hand_checked_order_up_to() -> None:
    # Forecast: 100/week (20 weeks of 100). Stock 500, 200 arriving in week 1.
    # Projection (start of week): w0 500 -> w1 400 (+200) -> w2 500 -> w3 400 -> w4 300.
    # Arrival after 4 weeks: stock 300. Target 6 x 100 = 600, safety 2 x 100 = 200.
    # Need 600 + 200 - 300 = 500, a multiple of the pack (10): order 500.
    # Cover now (500 + 200) / 100 = 7.0; at arrival 300 / 100 = 3.0; after 800 / 100 = 8.0.
    # Run-out without the order: 300 at w4 lasts three weeks -> w7 starts empty -> day 49.
    rec = plan(
        plan_input(
            [product("A", pack_size=10, stock_on_hand=500)],
            weekly_shipments("A", [100] * 20),
            [order("A", 200, AS_OF + timedelta(days=8))],
            **FLAT,
        )
    )
    (line,) = rec.lines
    e = line.explanation
    assert e is not None
    assert line.quantity == 500 and line.packs == 50
    assert not line.urgent and line.urgency_reason is None
    assert e.forecast_weekly == 100.0 and e.method == "trailing_average"
    assert (e.pipeline, e.stock_at_arrival) == (200, 300)
    assert (e.target_cartons, e.safety_stock_cartons, e.need_cartons) == (600, 200, 500)
    assert (e.cover_now_weeks, e.cover_at_arrival_weeks, e.cover_after_order_weeks) == (
        7.0,
        3.0,
        8.0,
    )
    assert e.run_out_date == AS_OF + timedelta(days=49)
    assert e.arrival_date == date(2026, 2, 2)
    assert e.rounding is None
    assert "need 500" in e.text and "Order 500" in e.text
    (p,) = rec.products
    assert p.status is PlanStatus.REORDER
    assert p.projected_stock[:5] == [500, 400, 500, 400, 300]
    assert rec.containers[0].cartons == 500 and rec.containers[0].fill_pct == pytest.approx(
        100 * 500 / 90_000, abs=0.01
    )


def test_urgent_when_stock_runs_out_before_arrival() -> None:
    # Stock 150 at 100/week runs out half-way through week 1: day 7 + 0.5 x 7 = 10.5 -> day 10.
    # Lead time 4 weeks, so an order placed today arrives long after: urgent.
    # At arrival stock is 0 (lost sales): need 600 + 200 = 800; pack 24 -> 34 packs = 816.
    rec = plan(
        plan_input(
            [product("A", pack_size=24, stock_on_hand=150)],
            weekly_shipments("A", [100] * 20),
            **FLAT,
        )
    )
    (line,) = rec.lines
    assert line.urgent
    assert line.quantity == 816
    assert line.explanation is not None
    assert line.explanation.rounding == "need 800 rounded up to 816 (34 packs of 24)"
    assert line.urgency_reason is not None
    assert line.urgency_reason.startswith(f"runs out on {(AS_OF + timedelta(days=10)).isoformat()}")
    assert rec.containers[0].urgent
    assert rec.products[0].status is PlanStatus.AT_RISK
    assert rec.totals.urgent_products == 1


def test_urgent_when_breaking_safety_stock_only() -> None:
    # Stock 450: end of week 0..3 = 350, 250, 150, 50. Safety 200 is broken in week 2
    # (150 < 200) but the stock never runs out before arrival (week 4).
    rec = plan(
        plan_input([product("A", stock_on_hand=450)], weekly_shipments("A", [100] * 20), **FLAT)
    )
    (line,) = rec.lines
    assert line.urgent
    assert line.urgency_reason is not None
    assert line.urgency_reason.startswith("falls below safety stock (200 cartons) in the week of")
    assert (AS_OF + timedelta(weeks=2)).isoformat() in line.urgency_reason


def test_moq_raises_small_need() -> None:
    # Need 800 - 750 = 50 at arrival (stock 1,150 - 4 x 100 = 750); MOQ 300 with pack 40
    # rounds up to 320 (8 packs): the order is 320.
    rec = plan(
        plan_input(
            [product("A", pack_size=40, moq=300, stock_on_hand=1150)],
            weekly_shipments("A", [100] * 20),
            **FLAT,
        )
    )
    (line,) = rec.lines
    assert line.quantity == 320
    assert line.explanation is not None
    assert line.explanation.rounding == "need 50 raised to the minimum order 320 (MOQ 300)"


def test_all_healthy_gives_empty_recommendation_with_message() -> None:
    products = [product(c, stock_on_hand=5000) for c in "ABC"]
    shipments = [s for c in "ABC" for s in weekly_shipments(c, [100] * 20)]
    rec = plan(plan_input(products, shipments, **FLAT))
    assert rec.lines == [] and rec.containers == []
    assert rec.summary == "All 3 products are healthy; nothing to order."
    assert all(p.status is PlanStatus.HEALTHY for p in rec.products)
    assert rec.totals.containers == 0 and rec.totals.average_fill_pct is None


def test_no_history_is_not_ordered_and_says_why() -> None:
    rec = plan(
        plan_input(
            [product("NEW", stock_on_hand=0), product("A", stock_on_hand=5000)],
            weekly_shipments("A", [100] * 20),
            **FLAT,
        )
    )
    assert rec.lines == []
    new = rec.products[0]
    assert new.status is PlanStatus.NO_HISTORY and new.method == "none"
    assert new.note is not None and "No shipment history" in new.note
    assert rec.summary == "Nothing to order: 1 products are healthy (1 no history)."


def test_negative_stock_is_planned_as_zero_and_flagged() -> None:
    # -300 is treated as 0: at arrival 0, need 600 + 200 = 800.
    rec = plan(
        plan_input([product("A", stock_on_hand=-300)], weekly_shipments("A", [100] * 20), **FLAT)
    )
    (line,) = rec.lines
    assert line.quantity == 800 and line.urgent
    assert line.explanation is not None
    assert line.explanation.stock_on_hand == -300 and line.explanation.stock_used == 0
    assert any("negative stock (-300)" in w for w in line.explanation.warnings)


def test_missing_stock_assumed_zero_by_default_and_flagged() -> None:
    rec = plan(
        plan_input([product("A", stock_on_hand=None)], weekly_shipments("A", [100] * 20), **FLAT)
    )
    (line,) = rec.lines
    assert line.quantity == 800
    assert line.explanation is not None
    assert any("stock on hand missing" in w for w in line.explanation.warnings)
    assert "Stock on hand missing" in line.explanation.text


def test_missing_stock_skipped_when_configured() -> None:
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=None)],
            weekly_shipments("A", [100] * 20),
            missing_stock="skip",
            **FLAT,
        )
    )
    assert rec.lines == []
    assert rec.products[0].status is PlanStatus.STOCK_UNKNOWN
    assert "stock unknown" in rec.summary


def test_zero_consumption_has_unbounded_cover_and_no_order() -> None:
    # Shipments long ago, none in the last 12 weeks: trailing average is 0.
    history = [100] * 10 + [0] * 30
    rec = plan(plan_input([product("A", stock_on_hand=0)], weekly_shipments("A", history), **FLAT))
    assert rec.lines == []
    (p,) = rec.products
    assert p.weekly_forecast == 0.0
    assert p.weeks_of_cover is None and p.run_out_date is None
    assert p.status is PlanStatus.HEALTHY
    assert rec.summary == "All 1 products are healthy; nothing to order."


def test_product_larger_than_one_container() -> None:
    # Capacity 1,000. Need 20 x 100 + 2 x 100 = 2,200: two full containers and one of 200.
    rec = plan(
        plan_input(
            [product("BIG", stock_on_hand=0)],
            weekly_shipments("BIG", [100] * 20),
            container_capacity_cartons=1000,
            **{**FLAT, "target_soh_weeks": 20},
        )
    )
    (line,) = rec.lines
    assert line.quantity == 2200
    assert [c.cartons for c in rec.containers] == [1000, 1000, 200]
    assert line.containers == [1, 2, 3]
    assert all(c.urgent for c in rec.containers)


def test_discontinued_product_never_ordered() -> None:
    rec = plan(
        plan_input(
            [product("OLD", stock_on_hand=0, status=ProductStatus.DISCONTINUED)],
            weekly_shipments("OLD", [100] * 20),
            **FLAT,
        )
    )
    assert rec.lines == []
    assert rec.products[0].status is PlanStatus.DISCONTINUED
    assert rec.summary == "No active products to plan; nothing to order."


def test_a_snoozed_product_is_not_ordered_until_its_snooze_ends() -> None:
    def planned(until: date) -> Recommendation:
        inp = plan_input(
            [product("NAP", stock_on_hand=0), product("B", stock_on_hand=0)],
            weekly_shipments("NAP", [100] * 20) + weekly_shipments("B", [100] * 20),
            **FLAT,
        )
        return plan(inp.model_copy(update={"snoozed": {"NAP": until}}))

    later = AS_OF + timedelta(weeks=2)
    snoozed = planned(later)
    assert [line.product_code for line in snoozed.lines] == ["B"]  # stocked out, yet not NAP
    nap = next(p for p in snoozed.products if p.product_code == "NAP")
    assert nap.status is PlanStatus.SNOOZED and nap.ordered_quantity == 0
    assert nap.note == (
        f"Snoozed by the buyer until {later.isoformat()}: not ordered; it comes back at the "
        "first review after."
    )
    assert snoozed.totals.urgent_products == 1  # B only: a snoozed product is not urgent
    back = planned(AS_OF)  # the snooze ends on the planning day: ordered again
    assert {line.product_code for line in back.lines} == {"NAP", "B"}


@pytest.mark.parametrize("status", [OrderStatus.DELIVERED, OrderStatus.CANCELLED])
def test_only_approved_and_in_transit_orders_count(status: OrderStatus) -> None:
    def qty(st: OrderStatus) -> int:
        rec = plan(
            plan_input(
                [product("A", stock_on_hand=500)],
                weekly_shipments("A", [100] * 20),
                [order("A", 300, AS_OF + timedelta(days=3), status=st)],
                **FLAT,
            )
        )
        return rec.lines[0].quantity

    # Counted: at arrival 500 + 300 - 400 = 400 -> need 400; ignored: 100 -> need 700.
    assert qty(OrderStatus.IN_TRANSIT) == 400
    assert qty(OrderStatus.APPROVED) == 400
    assert qty(status) == 700


def test_order_without_eta_arrives_after_lead_time_and_is_reported() -> None:
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=500)],
            weekly_shipments("A", [100] * 20),
            [order("A", 300, None)],
            **FLAT,
        )
    )
    # Placed two weeks ago with a 4-week lead time: arrives in week 2, before our arrival.
    assert rec.lines[0].quantity == 400
    assert any("has no ETA" in w for w in rec.warnings)


def test_top_up_pulls_forward_runners_up_to_max_cover() -> None:
    # A needs 500 (as in the hand-checked case); B is healthy with 1,500 (cover 15 at w0).
    # Top-up with max cover 10 weeks: A can reach 10 x 100 = 1,000 at arrival (it has 300 + 500),
    # so 200 more; B has 1,500 - 400 = 1,100 at arrival, above 1,000: nothing.
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=500), product("B", stock_on_hand=1500)],
            weekly_shipments("A", [100] * 20) + weekly_shipments("B", [100] * 20),
            [order("A", 200, AS_OF + timedelta(days=8))],
            **{
                **FLAT,
                "last_container": "top_up",
                "max_cover_weeks": 10,
                "min_fill_pct": 0,
            },
        )
    )
    (line,) = rec.lines
    assert line.quantity == 700
    assert line.explanation is not None
    assert line.explanation.pull_forward_cartons == 200
    assert line.explanation.cover_after_order_weeks == 10.0
    assert rec.totals.pulled_forward_cartons == 200


def test_top_up_adds_unordered_product_only_from_its_moq() -> None:
    # Capacity 1,000; max cover 10 weeks = 1,000 cartons at arrival.
    # A needs 500 (as above) and may take 200 more (800 -> 1,000): 300 room left.
    # B (1,300 - 400 = 900 at arrival) may take 100, but it is not ordered and its MOQ is 600.
    # C (1,350 - 400 = 950 at arrival) takes its 50. Order of candidates: cover A 8, B 9, C 9.5.
    rec = plan(
        plan_input(
            [
                product("A", stock_on_hand=500),
                product("B", stock_on_hand=1300, moq=600),
                product("C", stock_on_hand=1350),
            ],
            [s for c in "ABC" for s in weekly_shipments(c, [100] * 20)],
            [order("A", 200, AS_OF + timedelta(days=8))],
            **{
                **FLAT,
                "last_container": "top_up",
                "max_cover_weeks": 10,
                "min_fill_pct": 0,
                "container_capacity_cartons": 1000,
            },
        )
    )
    quantities = {ln.product_code: ln.quantity for ln in rec.lines}
    assert quantities == {"A": 700, "C": 50}
    assert rec.containers[0].cartons == 750


def test_drop_policy_defers_small_non_urgent_container() -> None:
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=500)],
            weekly_shipments("A", [100] * 20),
            [order("A", 200, AS_OF + timedelta(days=8))],
            **{**FLAT, "last_container": "drop", "min_fill_pct": 50},
        )
    )
    assert rec.lines == []
    assert rec.totals.dropped_cartons == 500
    assert rec.products[0].status is PlanStatus.REORDER
    assert rec.products[0].note is not None and "deferred" in rec.products[0].note
    assert rec.summary.startswith("Nothing to order this cycle: 1 products need 500 cartons")


def test_drop_policy_keeps_urgent_container() -> None:
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=150)],
            weekly_shipments("A", [100] * 20),
            **{**FLAT, "last_container": "drop", "min_fill_pct": 50},
        )
    )
    assert [ln.quantity for ln in rec.lines] == [800]
    assert rec.totals.dropped_cartons == 0


def test_recommendation_round_trips_through_json() -> None:
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=150), product("B", stock_on_hand=None)],
            weekly_shipments("A", [100] * 20),
            **FLAT,
        )
    )
    again = Recommendation.model_validate_json(rec.model_dump_json())
    assert again == rec


def test_target_override_per_product() -> None:
    # B's target is 10 weeks instead of 6: need 1,000 + 200 - 0 = 1,200 vs A's 800.
    rec = plan(
        plan_input(
            [product("A"), product("B")],
            weekly_shipments("A", [100] * 20) + weekly_shipments("B", [100] * 20),
            target_soh_overrides={"B": 10},
            **FLAT,
        )
    )
    assert {ln.product_code: ln.quantity for ln in rec.lines} == {"A": 800, "B": 1200}


def test_service_level_safety_stock_reads_the_forecasts_own_error() -> None:
    # 32 weeks of 100, then 8 of 150. The trailing average (12 weeks) tested at 6 origins
    # 4 weeks apart, each on the next 8 weeks' total: at week 32 it said 800 and 1,200 came
    # (error 400), at week 28 800 against 1,000 (200), earlier 800 against 800. MAE 100, so
    # sigma over 8 weeks = 1.25 x 100 and per week 125 / sqrt(8). L + R = 4 + 1:
    # safety = 1.6449 x sqrt(5) x 125 / sqrt(8) = 162.55. Forecast (4 x 100 + 8 x 150) / 12
    # = 133.33: target 6 weeks = 800, need 800 + 162.55 = 962.55 -> 963 cartons.
    settings = {**FLAT, "safety_stock_mode": "service_level", "service_level": 0.95}
    rec = plan(
        plan_input([product("A")], weekly_shipments("A", [100] * 32 + [150] * 8), **settings)
    )
    e = rec.lines[0].explanation
    assert e is not None
    assert e.safety_stock_cartons == 163
    assert e.need_cartons == 963 and rec.lines[0].quantity == 963
    assert "z=1.64" in e.safety_stock_rule


def test_service_level_without_forecast_error_reads_demand_sigma() -> None:
    # 6 weeks of history: no origin can test the forecast, so sigma is the sample standard
    # deviation of the weeks: 80/120 alternating, sqrt(6 x 400 / 5) = 21.91; L + R = 5:
    # safety = 1.6449 x 21.91 x sqrt(5) = 80.6.
    settings = {
        **FLAT,
        "safety_stock_mode": "service_level",
        "service_level": 0.95,
        "min_history_weeks": 4,
    }
    rec = plan(plan_input([product("A")], weekly_shipments("A", [80, 120] * 3), **settings))
    e = rec.lines[0].explanation
    assert e is not None and e.safety_stock_cartons == 81


def test_unknown_products_in_shipments_are_reported() -> None:
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=5000)],
            weekly_shipments("A", [100] * 20) + weekly_shipments("ZZ", [5] * 3),
            **FLAT,
        )
    )
    assert "3 shipments name products not in the catalogue; ignored" in rec.warnings


def test_an_unsplittable_need_is_ordered_as_a_quantity_the_erp_accepts() -> None:
    # Need 201 (target 6 x 30 = 180 + safety 2 x 30 = 60 - 39 at arrival = 201), MOQ 84,
    # containers of 100: 201 splits into no container shares of at least 84, so the order
    # is 252 (three shares of 84); every container share is at least the MOQ.
    rec = plan(
        plan_input(
            [product("A", moq=84, stock_on_hand=159)],
            weekly_shipments("A", [30] * 20),
            container_capacity_cartons=100,
            **{**FLAT, "max_cover_weeks": 26},
        )
    )
    (line,) = rec.lines
    assert line.quantity == 252
    assert all(cl.quantity >= 84 for c in rec.containers for cl in c.lines)
    assert len(rec.containers) == 3


def test_an_moq_above_one_container_is_a_warning_not_an_order() -> None:
    rec = plan(
        plan_input(
            [product("A", moq=150, stock_on_hand=0)],
            weekly_shipments("A", [30] * 20),
            container_capacity_cartons=100,
            **FLAT,
        )
    )
    assert rec.lines == [] and rec.containers == []
    (p,) = rec.products
    assert p.status is PlanStatus.AT_RISK and p.ordered_quantity == 0
    assert p.note is not None and "more than one container takes" in p.note
    assert any("MOQ exceeds one container" in w and "A" in w for w in rec.warnings)


def test_a_product_that_fits_no_container_is_a_clear_error() -> None:
    with pytest.raises(UnpackableProduct) as exc:
        plan(
            plan_input(
                [product("LEAD", pack_size=10, carton_weight_kg=30.0)],
                weekly_shipments("LEAD", [5] * 20),
                container_max_weight_kg=200.0,
                **FLAT,
            )
        )
    assert str(exc.value).startswith(
        "product LEAD: one pack of 10 cartons, 300.0 kg does not fit in an empty container"
    )


def test_demand_that_stopped_is_neither_urgent_nor_ordered() -> None:
    # A lumpy product whose demand stopped a year ago: TSB forecasts a fraction of a carton
    # a week. With no stock it "runs out", but loses less than a carton before an order
    # could arrive: not urgent, and a need under half a carton orders nothing.
    history = [0, 0, 0, 40, 0, 0, 0, 0, 0, 55] * 5 + [0] * 50
    rec = plan(
        plan_input(
            [product("GONE", stock_on_hand=0)],
            weekly_shipments("GONE", history),
            **{**FLAT, "forecast_method": "tsb"},
        )
    )
    (p,) = rec.products
    assert p.weekly_forecast == 0.1  # about 0.06 a week: 0.25 lost over the lead time
    assert rec.lines == [] and rec.containers == []
    assert not p.urgent and p.status is PlanStatus.HEALTHY


def test_an_urgent_container_below_min_fill_is_flagged_with_its_cost() -> None:
    # One urgent product needs 800 cartons; nothing else to fill a 10,000-carton container:
    # it ships (stock runs out before any order could arrive) but says what it costs.
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=100)],
            weekly_shipments("A", [100] * 20),
            container_capacity_cartons=10_000,
            **FLAT,
        )
    )
    (c,) = rec.containers
    assert c.urgent and c.cartons == 800
    (flag,) = rec.container_notes
    assert (flag.index, flag.fill_pct, flag.urgent) == (1, 8.0, True)
    assert flag.note == (
        "Only 8.0% full (800 cartons): shipping it now costs 92.0% of a container (below the "
        "50% minimum fill); it ships because it holds urgent products (A) that run out before "
        "a later order lands. Consider adding products or accepting the risk."
    )
    assert f"Container 1: {flag.note}" in rec.warnings
    assert rec.totals.below_min_fill_containers == 1
    assert "1 container below the 50% minimum fill" in rec.summary


def with_consumption(inp: PlanInput) -> PlanInput:
    """The input with the ERP reporting what its shipments say was consumed (100 a week
    for each product): `auto` weighs and tops up only with a consumption history."""
    reports = [r for p in inp.products for r in weekly_consumption(p.code, [100] * 20)]
    return inp.model_copy(update={"consumption": reports})


def two_a_little_under_target() -> PlanInput:
    """Two products a little under their targets: their needs fill a tenth of a container
    and the top-up (one container's worth: 10,000 / 200 a week = 50 weeks, capped at max
    cover 12) cannot fill it. At arrival (week 4): 1,450 - 400 = 1,050 for 800 + 200
    wanted."""
    stock = 200 * 7 + 50
    return plan_input(
        [product("A", stock_on_hand=stock - 1000), product("B", stock_on_hand=stock - 1000)],
        weekly_shipments("A", [100] * 20) + weekly_shipments("B", [100] * 20),
        container_capacity_cartons=100_000,
        **{**FLAT, "last_container": "auto", "max_cover_weeks": 12},
    )


def test_auto_ships_the_last_container_as_packed_before_any_consumption_history() -> None:
    # The customer of the next test (which drops the container), with shipments alone:
    # nothing pulled forward or held back on a forecast read from orders; the part-full
    # container ships and says why.
    rec = plan(two_a_little_under_target())
    (c,) = rec.containers
    assert c.cartons == sum(line.quantity for line in rec.lines) == 2 * 750
    assert rec.totals.pulled_forward_cartons == 0 and rec.totals.dropped_cartons == 0
    (flag,) = rec.container_notes
    assert "no product has a consumption history yet" in flag.note
    assert "it holds urgent products (A, B)" in flag.note


def test_auto_waits_a_review_when_the_last_container_is_part_empty_and_can_wait() -> None:
    # With a consumption history, neither product loses demand by waiting a week: dropped.
    rec = plan(with_consumption(two_a_little_under_target()))
    assert rec.containers == []
    assert rec.totals.dropped_cartons > 0
    assert all(p.note is not None and "can wait a review" in p.note for p in rec.products)


def test_auto_tops_up_within_one_containers_worth_not_max_cover() -> None:
    # Demand 1,000 a week over 10 products, containers of 3,000 (3 weeks' worth): a need of
    # 2,500 is topped up to 3,000, never to max cover: every product's cover after the order
    # stays within target + safety + 3 weeks.
    products = [product(f"P{i}", stock_on_hand=500) for i in range(10)]
    shipments = [s for i in range(10) for s in weekly_shipments(f"P{i}", [100] * 20)]
    rec = plan(
        with_consumption(
            plan_input(
                products,
                shipments,
                container_capacity_cartons=3000,
                **{**FLAT, "last_container": "auto", "max_cover_weeks": 26},
            )
        )
    )
    assert all(c.fill_pct == 100.0 for c in rec.containers)
    for line in rec.lines:
        assert line.explanation is not None
        cover = line.explanation.cover_after_order_weeks
        assert cover is not None and cover <= 6 + 2 + 3 + 1e-6


def test_auto_tops_up_no_further_than_the_customers_stock_as_a_whole_allows() -> None:
    # The same customer, but one steady product holds 50 weeks of stock: the customer as a
    # whole holds more than the ceilings in all, so nothing is pulled forward to fill the
    # last container, though each of the others is below its own ceiling.
    def planned(heavy_stock: int) -> Recommendation:
        products = [product(f"P{i}", stock_on_hand=500) for i in range(9)]
        products.append(product("P9", stock_on_hand=heavy_stock))
        shipments = [s for i in range(10) for s in weekly_shipments(f"P{i}", [100] * 20)]
        return plan(
            with_consumption(
                plan_input(
                    products,
                    shipments,
                    container_capacity_cartons=3000,
                    **{**FLAT, "last_container": "auto", "max_cover_weeks": 26},
                )
            )
        )

    assert planned(500).totals.pulled_forward_cartons > 0
    heavy = planned(5000)
    assert heavy.totals.pulled_forward_cartons == 0
    assert all(line.product_code != "P9" for line in heavy.lines)


def test_fractional_lead_time_moves_the_arrival_into_its_week() -> None:
    # Lead time 45 days = 6.43 weeks, 100 a week, stock 1,000: at arrival 1,000 - 643 = 357.
    rec = plan(
        plan_input(
            [product("A", stock_on_hand=1000)],
            weekly_shipments("A", [100] * 20),
            **{**FLAT, "lead_time_weeks": 45 / 7},
        )
    )
    e = rec.lines[0].explanation
    assert e is not None
    assert e.arrival_date == AS_OF + timedelta(days=45)
    assert e.stock_at_arrival == 357
    assert e.lead_time_weeks == 6.43
    assert "(lead time 6.42857 weeks)" in e.text
