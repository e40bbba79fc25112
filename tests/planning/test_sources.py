"""History sources: ERP consumption reports, stock snapshots, corrected shipments, and the
choice of the best one per product and week."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from planning import plan
from planning.catalog import Catalog
from planning.engine import history_of
from planning.history import History, weekly_history
from planning.models import ConsumptionReport, Shipment, ShipmentCorrection, StockSnapshot
from planning.schemas import HistorySource
from planning.sources import (
    DayGrid,
    Source,
    SourceWeeks,
    activity_source,
    combine,
    corrections_matrix,
    first_covered,
    shipment_source,
    shipments_only,
    snapshot_arrays,
    spread_orders,
)
from tests.planning.factories import (
    AS_OF,
    delivered,
    plan_input,
    product,
    weekly_consumption,
    weekly_shipments,
)

SETTINGS = {
    "forecast_method": "trailing_average",
    "lead_time_weeks": 4,
    "safety_stock_mode": "weeks",
    "last_container": "keep",
}


def test_erp_consumption_reports_are_the_history_and_the_explanation_says_so() -> None:
    # Shipments say 300 a week (our own orders), the ERP reports 100 consumed: the plan
    # reads the reports.
    inp = plan_input(
        [product("A", stock_on_hand=0)],
        weekly_shipments("A", [300] * 20),
        **SETTINGS,
    ).model_copy(update={"consumption": weekly_consumption("A", [100] * 20)})
    rec = plan(inp)
    (line,) = rec.lines
    e = line.explanation
    assert e is not None
    assert e.forecast_weekly == 100.0
    assert e.history_source is HistorySource.ERP_ACTIVITY and e.history_source_weeks == 20
    assert "from the ERP's consumption reports" in e.text
    assert rec.products[0].history_source is HistorySource.ERP_ACTIVITY


def test_a_week_the_erp_reports_counts_for_every_product() -> None:
    # B is never in the reports: in the weeks the ERP reports it consumed nothing.
    grid = DayGrid(AS_OF, 10)
    src = activity_source(["A", "B"], weekly_consumption("A", [70] * 4), grid)
    assert src is not None
    assert src.covered[:, -4:].all() and not src.covered[:, :-4].any()
    assert src.weekly[0, -4:].tolist() == [70] * 4 and src.weekly[1].sum() == 0


def test_reports_on_other_weekdays_are_split_over_the_weeks_they_cover() -> None:
    # Weeks starting 3 days later than ours: 4/7 of each lands in one column, 3/7 in the
    # next. The newest report is not complete before as_of: left out. Column 2 gets 4 days
    # (scaled to a week: 70); column 5 only 3, as the latest week does while the ERP's
    # report for it is not in: the days reported stand for the week.
    grid = DayGrid(AS_OF, 6)
    src = activity_source(["A"], weekly_consumption("A", [70] * 4, shift_days=3), grid)
    assert src is not None
    assert src.weekly[0].round(6).tolist() == [0, 0, 70, 70, 70, 70]
    assert src.covered[0].tolist() == [False, False, True, True, True, True]
    # A week missing from the reports is a gap, not a lag: 3 days are too few there.
    gap = weekly_consumption("A", [70, 70, 70, 70, 70], shift_days=3)
    del gap[2]
    src = activity_source(["A"], gap, DayGrid(AS_OF, 6))
    assert src is not None
    assert src.covered[0].tolist() == [False, True, True, False, True, True]


@pytest.mark.parametrize("days_after_monday", range(7))
def test_the_reports_are_the_history_whatever_the_weekday_of_the_review(
    days_after_monday: int,
) -> None:
    # The ERP reports Monday-to-Sunday weeks once they end; a review later in the week
    # finds its latest week only partly reported, and still reads the reports (a review on
    # a Friday once fell back to shipments for every product).
    as_of = AS_OF + timedelta(days=days_after_monday)
    inp = plan_input(
        [product("A", stock_on_hand=0)],
        weekly_shipments("A", [300] * 20),
        **SETTINGS,
    ).model_copy(
        update={"as_of": as_of, "consumption": weekly_consumption("A", [100] * 19 + [140])}
    )
    history, _ = history_of(inp, Catalog.of(inp.products))
    assert history.source is not None and history.source.tolist() == [Source.ERP_ACTIVITY]
    assert history.weekly[0, -1] == pytest.approx(140.0)  # the latest report's week
    assert plan(inp).products[0].history_source is HistorySource.ERP_ACTIVITY


def test_the_last_order_before_the_snapshots_covers_at_least_the_usual_gap() -> None:
    # Orders of 60 every 4 weeks; the one in week 8 is followed 2 weeks later, after the
    # snapshots began (week 9), by another. Cut short at it, week 8 would read 30 (stock the
    # first snapshot still counts); it covers the usual gap instead: 60 / 3 (10 weeks / 3).
    weekly = np.zeros((1, 12))
    weekly[0, [0, 4, 8, 10]] = 60
    assert spread_orders(weekly)[0, 8] == 30
    spread = spread_orders(weekly, np.array([9]))
    assert spread[0, :8].tolist() == [15] * 8
    # The latest (week 10) covers its usual gap too, 3 weeks, one of them after now.
    assert spread[0, 8:].tolist() == pytest.approx([20, 20, 20 + 20, 20])
    assert spread.sum() == pytest.approx(240 - 20)
    # No better source in the window (first_covered's answer then): as without one, also
    # for a product ordering less often than the latest order's cap (13 weeks).
    rare = np.zeros((1, 60))
    rare[0, [0, 20, 40, 55]] = 100
    assert spread_orders(rare, np.array([60])).tolist() == spread_orders(rare).tolist()
    # A weekly order is its week's consumption either way.
    weekly = np.full((1, 6), 500.0)
    assert spread_orders(weekly, np.array([3])).tolist() == weekly.tolist()


def test_the_better_sources_begin_where_they_first_cover_a_product() -> None:
    covered = np.zeros((3, 6), dtype=bool)
    covered[0, 2:] = True
    covered[1, 4:] = True
    snaps = SourceWeeks(Source.SNAPSHOTS, np.zeros((3, 6)), covered)
    reports = SourceWeeks(Source.ERP_ACTIVITY, np.zeros((3, 6)), np.zeros((3, 6), dtype=bool))
    reports.covered[1, 3] = True
    assert first_covered([snaps, reports], 3, 6).tolist() == [2, 3, 6]


def test_a_history_is_shipments_only_until_a_product_is_read_from_consumption() -> None:
    def history(*consumption: list[ConsumptionReport]) -> History:
        inp = plan_input([product("A"), product("B")], weekly_shipments("A", [100] * 20))
        inp = inp.model_copy(update={"consumption": [r for c in consumption for r in c]})
        return history_of(inp, Catalog.of(inp.products))[0]

    assert shipments_only(weekly_history(["A"], [], AS_OF, 10)[0])  # no source: shipments
    assert shipments_only(history())
    assert not shipments_only(history(weekly_consumption("A", [100] * 8)))
    # The ERP's weeks start three days later than ours, and its newest is not complete: the
    # days of the latest week it has reported stand for it.
    lagging = history(weekly_consumption("A", [100] * 8, shift_days=3))
    assert lagging.source is not None and lagging.source[0] == Source.ERP_ACTIVITY
    # Its report for the whole latest week missing: that week is shipments again, but the
    # weeks before it are consumption.
    late = history(weekly_consumption("A", [100] * 8, shift_days=-7))
    assert late.source is not None and late.source[0] == Source.SHIPMENTS
    assert not shipments_only(late)


def test_the_plan_reads_the_hand_over_with_the_snapshots_where_they_begin() -> None:
    # Orders of 80 every 4 weeks, the last before the snapshots 6 weeks ago; the first
    # snapshot 5 weeks ago, the next order 2 weeks after that one. The week of the last
    # order before the snapshots reads 80 / 4 (its usual gap: 18 weeks / 5, rounded), not
    # 80 / 2 (cut short at the next).
    ships = [
        Shipment(product_code="A", ship_date=AS_OF - timedelta(days=d), quantity=80)
        for d in (154, 126, 98, 70, 42, 28)
    ]
    snaps = [
        StockSnapshot(product_code="A", taken_on=AS_OF - timedelta(days=d), stock_on_hand=200)
        for d in (35, 21)
    ]
    inp = plan_input([product("A", stock_on_hand=200)], ships, **SETTINGS).model_copy(
        update={"snapshots": snaps}
    )
    weekly = history_of(inp, Catalog.of(inp.products))[0].weekly[0]
    assert weekly[-6] == pytest.approx(20)


def test_consumption_between_snapshots_is_stock_before_plus_deliveries_minus_stock_after() -> None:
    # Syncs every 14 days: 500 -> 300 (consumed 200) -> +400 delivered -> 400 (consumed 300)
    # -> 260 today (140). Spread per day and summed per week: 100, 100, 150, 150, 70, 70.
    snaps = [
        StockSnapshot(product_code="A", taken_on=AS_OF - timedelta(days=d), stock_on_hand=s)
        for d, s in ((42, 500), (28, 300), (14, 400))
    ]
    received = delivered("A", 400, ordered_days_ago=80, delivered_days_ago=20, number="O-9")
    inp = plan_input(
        [product("A", stock_on_hand=260)], weekly_shipments("A", [500] * 20), **SETTINGS
    ).model_copy(update={"snapshots": snaps, "order_history": [received]})
    rec = plan(inp)
    p = rec.products[0]
    assert p.history_source is HistorySource.SNAPSHOTS
    # Trailing average over 12 weeks: 6 weeks of snapshots (640) and 6 of shipments
    # spread (500 each): (640 + 3,000) / 12.
    assert p.weekly_forecast == pytest.approx((640 + 3000) / 12, abs=0.05)
    e = rec.lines[0].explanation
    assert e is not None and e.history_source_weeks == 6
    assert "from stock counts at each sync (last 6 weeks; shipments before)" in e.text


def test_once_snapshots_cover_13_weeks_they_are_the_whole_history() -> None:
    n = 20
    snaps = [
        StockSnapshot(product_code="A", taken_on=AS_OF - timedelta(weeks=k), stock_on_hand=k * 50)
        for k in range(1, n + 1)
    ]
    inp = plan_input(
        [product("A", stock_on_hand=0)], weekly_shipments("A", [999] * 40), **SETTINGS
    ).model_copy(update={"snapshots": snaps})
    p = plan(inp).products[0]
    assert p.weekly_forecast == 50.0 and p.history_source is HistorySource.SNAPSHOTS


def test_an_interval_that_ended_empty_takes_the_rate_before_it() -> None:
    # Days relative to as_of: 100 consumed in 7 days, then the shelf ran empty (only 30 to
    # consume): that week counts the earlier 100, not the 30 sold.
    row = np.zeros(3, dtype=np.int64)
    day = np.array([-14, -7, 0])
    stock = np.array([130.0, 30.0, 0.0])
    none = np.zeros(0, dtype=np.int64)
    out = snapshot_arrays(1, 2, row, day, stock, none, none, np.zeros(0))
    assert out.source.weekly[0].tolist() == [100.0, 100.0]
    assert out.rises == 0
    assert out.sold_out_floor.tolist() == [False]  # a known rate, not a floor


def test_stock_that_rose_without_a_delivery_is_counted_and_taken_as_zero() -> None:
    row = np.zeros(2, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    out = snapshot_arrays(
        1, 1, row, np.array([-7, 0]), np.array([10.0, 50.0]), none, none, np.zeros(0)
    )
    assert out.rises == 1 and out.source.weekly[0, 0] == 0.0


def test_shipments_are_spread_over_the_weeks_until_the_next() -> None:
    # 90 in week 0 and 60 in week 3: 30 a week for 3 weeks, then 20 a week from week 3 on
    # (the latest covers its mean gap of 3 weeks).
    spread = spread_orders(np.array([[90.0, 0, 0, 60, 0, 0]]))
    assert spread[0].tolist() == [30, 30, 30, 20, 20, 20]
    # The latest shipment covers at least until now: 60 four weeks ago, gap 2 before.
    spread = spread_orders(np.array([[40.0, 0, 60, 0, 0, 0]]))
    assert spread[0].tolist() == [20, 20, 15, 15, 15, 15]


def test_corrections_move_our_excess_cartons_to_the_weeks_they_cover() -> None:
    # We ordered 500 where 200 were needed (300 rounding and pull-forward) 5 weeks ago; it
    # shipped a week later. At 100 a week the excess covers 3 weeks: 300 comes off the
    # shipment, 100 goes to it and each of the next two weeks; the 200 left of the shipment
    # covers the 4 weeks until now (50 a week).
    grid = DayGrid(AS_OF, 6)
    shipments = weekly_shipments("A", [0, 0, 500, 0, 0, 0])
    fix = [
        ShipmentCorrection(
            product_code="A",
            ordered_on=AS_OF - timedelta(weeks=5),
            excess_cartons=300,
            weekly_forecast=100.0,
        )
    ]
    removed, added = corrections_matrix(["A"], shipments, fix, grid)
    assert removed[0].tolist() == [0, 0, 300, 0, 0, 0]
    assert added[0].tolist() == [0, 0, 100, 100, 100, 0]
    weekly, _ = weekly_history(["A"], shipments, AS_OF, 6)
    corrected = shipment_source(weekly, (removed, added))
    assert corrected.weekly[0].tolist() == [0, 0, 150, 150, 150, 50]
    # Through plan(): at 30 a week the excess covers 10 weeks, 6 of them still to come, so
    # the history holds 200 + 4 x 30 = 320 of the 500 shipped.
    inp = plan_input([product("A")], shipments, **{**SETTINGS, "min_history_weeks": 1})
    slow = [fix[0].model_copy(update={"weekly_forecast": 30.0})]
    plain = plan(inp).products[0].weekly_forecast
    fixed = plan(inp.model_copy(update={"shipment_corrections": slow})).products[0]
    assert fixed.weekly_forecast == pytest.approx(plain * 320 / 500, abs=0.05)


def test_the_best_covering_source_wins_per_week() -> None:
    n, t = 1, 6
    ships = SourceWeeks(Source.SHIPMENTS, np.full((n, t), 9.0), np.ones((n, t), bool))
    covered = np.array([[False, False, False, True, True, True]])
    snaps = SourceWeeks(Source.SNAPSHOTS, np.full((n, t), 5.0), covered)
    reported = np.array([[False, False, False, False, True, True]])
    erp = SourceWeeks(Source.ERP_ACTIVITY, np.full((n, t), 7.0), reported)
    history: History = combine([ships, snaps, erp])
    assert history.weekly[0].tolist() == [9, 9, 9, 5, 7, 7]
    assert history.source is not None and history.source.tolist() == [Source.ERP_ACTIVITY]
    assert history.source_weeks is not None and history.source_weeks.tolist() == [2]


def test_a_product_never_in_stock_from_sync_to_sync_is_read_at_twice_what_sold_out() -> None:
    # Product 0 is empty at every sync; 35 cartons landed on day -14 and were gone by day
    # -7. It sold out some day of that week, none likelier: taken at the median, half-way,
    # so 70 a week. The empty weeks around it take that rate rather than saying nothing.
    # Product 1 was empty throughout with nothing delivered: its weeks say nothing.
    days = np.array([-21, -14, -7, 0])
    row = np.repeat(np.arange(2, dtype=np.int64), days.size)
    out = snapshot_arrays(
        2,
        3,
        row,
        np.tile(days, 2),
        np.zeros(2 * days.size),
        np.array([0], dtype=np.int64),
        np.array([-14], dtype=np.int64),
        np.array([35.0]),
    )
    assert out.source.weekly[0].tolist() == [70.0, 70.0, 70.0]
    assert out.source.unknown is not None
    assert out.source.unknown.tolist() == [[False] * 3, [True] * 3]
    assert out.sold_out_floor.tolist() == [True, False]


def test_a_line_read_from_sold_out_floors_says_so_and_a_line_that_kept_stock_does_not() -> None:
    # A: empty at every weekly sync; 35 cartons landed on day -20 and were gone by day -14.
    # B: in stock throughout, 50 a week.
    snaps = [
        StockSnapshot(product_code=code, taken_on=AS_OF - timedelta(days=d), stock_on_hand=s)
        for d in (28, 21, 14, 7)
        for code, s in (("A", 0), ("B", 100 + 50 * d // 7))
    ]
    received = delivered("A", 35, ordered_days_ago=60, delivered_days_ago=20, number="O-1")
    inp = plan_input(
        [product("A", stock_on_hand=0), product("B", stock_on_hand=100)],
        weekly_shipments("A", [35] * 20) + weekly_shipments("B", [50] * 20),
        **SETTINGS,
    ).model_copy(update={"snapshots": snaps, "order_history": [received]})
    rec = plan(inp)
    lines = {line.product_code: line for line in rec.lines}
    a, b = lines["A"].explanation, lines["B"].explanation
    assert a is not None and b is not None
    assert a.history_source is HistorySource.SNAPSHOTS
    assert any("twice what it sold before it sold out" in w for w in a.warnings)
    assert "Never in stock from one stock count to the next" in a.text
    assert b.history_source is HistorySource.SNAPSHOTS
    assert not any("sold out" in w for w in b.warnings)
