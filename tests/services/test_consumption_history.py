"""Keeping the consumption signal across syncs: stock counts and the ERP's weekly reports."""

from __future__ import annotations

from datetime import date, timedelta

from planning.models import ConsumptionReport
from services import consumption

MONDAY = date(2026, 3, 2)


def report(week: date, qty: int, soh: int | None = None, code: str = "A") -> ConsumptionReport:
    return ConsumptionReport(product_code=code, week_start=week, quantity=qty, stock_on_hand=soh)


def test_each_sync_adds_its_stock_count_and_a_same_day_resync_replaces_it() -> None:
    counts = consumption.with_stock_count(None, MONDAY, 120)
    counts = consumption.with_stock_count(counts, MONDAY + timedelta(days=7), 80)
    counts = consumption.with_stock_count(counts, MONDAY + timedelta(days=7), 75)
    assert counts == [[MONDAY.toordinal(), 120], [MONDAY.toordinal() + 7, 75]]
    # No stock figure: nothing to count, what was kept stays.
    assert consumption.with_stock_count(counts, MONDAY + timedelta(days=14), None) == counts


def test_old_counts_and_reports_fall_off_after_the_planners_longest_history() -> None:
    old = MONDAY - timedelta(weeks=consumption.KEEP_WEEKS + 1)
    counts = consumption.with_stock_count([[old.toordinal(), 5]], MONDAY, 10)
    assert counts == [[MONDAY.toordinal(), 10]]
    reports = consumption.with_reports([[old.toordinal(), 3, None]], [report(MONDAY, 4)], MONDAY)
    assert reports == [[MONDAY.toordinal(), 4, None]]


def test_reports_merge_by_week_and_read_back_as_the_planners_rows() -> None:
    kept = consumption.with_reports(None, [report(MONDAY, 10, 50)], MONDAY)
    week2 = MONDAY + timedelta(days=7)
    kept = consumption.with_reports(kept, [report(week2, 12), report(MONDAY, 11, 49)], week2)
    assert kept == [[MONDAY.toordinal(), 11, 49], [week2.toordinal(), 12, None]]
    assert consumption.report_rows(kept) == [
        (MONDAY.toordinal(), 11, 49),
        (week2.toordinal(), 12, None),
    ]
    assert consumption.last_week([report(week2, 1)], MONDAY) == week2
    assert consumption.last_week([], None) is None


def test_snapshots_before_the_plans_day_only() -> None:
    counts = [[MONDAY.toordinal(), 100], [MONDAY.toordinal() + 7, 60]]
    read = consumption.snapshots_of("A", counts, MONDAY + timedelta(days=7))
    assert [(s.taken_on, s.stock_on_hand) for s in read] == [(MONDAY, 100)]
