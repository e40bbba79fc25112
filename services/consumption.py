"""What the planner reads consumption from, kept per product across syncs: the stock each sync
read (consumption between two syncs = stock before + received - stock after) and the ERP's
weekly consumption reports (EDI 852), when the ERP has them.

Both are stored with the product (`SnapshotProduct.stock_counts`, `.consumption`) as compact
lists, oldest first, trimmed to the planner's longest history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import cast

from planning.models import ConsumptionReport, ReportRow, StockSnapshot
from planning.schemas import construct

KEEP_WEEKS = 160  # the planner reads at most 156 weeks of history

StockCounts = list[list[int]]  # [[date ordinal, stock on hand], ...]
Reports = list[list[int | None]]  # [[week start ordinal, consumed, stock at week end], ...]


def with_stock_count(previous: StockCounts | None, day: date, stock: int | None) -> StockCounts:
    """`previous` with the stock read on `day` (a later read of the same day replaces it)."""
    counts = [c for c in previous or [] if c[0] != day.toordinal()]
    if stock is not None:
        counts.append([day.toordinal(), stock])
    counts.sort()
    oldest = (day - timedelta(weeks=KEEP_WEEKS)).toordinal()
    return [c for c in counts if c[0] >= oldest]


def with_reports(
    previous: Reports | None, reports: Iterable[ConsumptionReport], as_of: date
) -> Reports:
    """`previous` with the product's new weekly reports (a week reported again replaces it)."""
    weeks: dict[int, list[int | None]] = {int(r[0] or 0): list(r) for r in previous or []}
    for report in reports:
        ordinal = report.week_start.toordinal()
        weeks[ordinal] = [ordinal, report.quantity, report.stock_on_hand]
    oldest = (as_of - timedelta(weeks=KEEP_WEEKS)).toordinal()
    return [weeks[w] for w in sorted(weeks) if w >= oldest]


def by_product(reports: Iterable[ConsumptionReport]) -> dict[str, list[ConsumptionReport]]:
    grouped: dict[str, list[ConsumptionReport]] = defaultdict(list)
    for report in reports:
        grouped[report.product_code].append(report)
    return grouped


def last_week(reports: Sequence[ConsumptionReport], previous: date | None) -> date | None:
    weeks = [r.week_start for r in reports]
    if previous is not None:
        weeks.append(previous)
    return max(weeks, default=None)


def report_rows(stored: Reports | None) -> list[ReportRow]:
    """The stored reports as the plan input's rows (`PlanInput.consumption_by_product`), not
    validated again: they were when the sync read them (a 4,000-product customer's plan reads
    some 150,000)."""
    return cast(list[ReportRow], list(map(tuple, stored or [])))


def snapshots_of(code: str, stored: StockCounts | None, before: date) -> list[StockSnapshot]:
    """The stock counts read before `before` (the plan's own day counts the product's current
    stock on hand already)."""
    limit = before.toordinal()
    return [
        construct(
            StockSnapshot,
            {"product_code": code, "taken_on": date.fromordinal(day), "stock_on_hand": stock},
        )
        for day, stock in stored or []
        if day < limit
    ]
