"""Where each product's weekly history comes from: the best source that reports the week.

Three sources, best first:
- `erp_activity`: the ERP's consumption reports (EDI 852 style), when it has them;
- `snapshots`: consumption derived from Restock's own stock snapshots: stock at one sync
  + deliveries received until the next - stock at the next, spread evenly over the days
  in between (the plan's own stock on hand is the latest snapshot);
- `shipments`: what the supplier shipped, with our own orders' rounding and pull-forward
  moved to the weeks they cover (`ShipmentCorrection`). Shipments are orders, not
  consumption, so a forecast read from them feeds on its own orders: the last resort.

Each source says which weeks it covers (`SourceWeeks.covered`); a week is covered when
at least 4 of its 7 days are, and its figure is then scaled to 7 days; the latest week by
any day the ERP's reports reach into it (their newest week is reported once it ends, so a
review late in the week finds only its first days). Per product and
week the best covering source wins (`combine`), so early weeks may come from shipments
and recent ones from snapshots; the product's source is the one of its latest week.
Shipments cover every week. All of it is array work; a source nobody supplied costs
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from operator import attrgetter

import numpy as np

from planning.history import BoolArray, FloatArray, History, IntArray
from planning.models import (
    ConsumptionReport,
    ErpOrder,
    OrderStatus,
    Shipment,
    ShipmentCorrection,
    StockSnapshot,
)
from planning.rows import DatedRows, report_rows, shipment_rows

MIN_COVERED_DAYS = 4
CORRECTION_SHIP_DAYS = 42  # a correction applies to a shipment at most this long after ordering
CORRECTION_MAX_WEEKS = 52
SOLD_OUT_RATE_FACTOR = 2.0
"""A sold-out interval with no rate to go by is taken to have sold out half-way."""


class Source(IntEnum):
    """History sources, best first (the codes stored per product)."""

    ERP_ACTIVITY = 0
    SNAPSHOTS = 1
    SHIPMENTS = 2


SOURCE_NAMES: tuple[str, ...] = ("erp_activity", "snapshots", "shipments")
SOURCE_PHRASES: tuple[str, ...] = (
    "the ERP's consumption reports",
    "stock counts at each sync",
    "shipments",
)


@dataclass(frozen=True)
class SourceWeeks:
    """One source's weekly consumption per product and the weeks it covers."""

    source: Source
    weekly: FloatArray  # (n, T)
    covered: BoolArray  # (n, T)
    unknown: BoolArray | None = None  # (n, T) covered, but the figure says nothing (`combine`)


@dataclass(frozen=True)
class DayGrid:
    """The history window as days relative to `as_of`: column c holds days
    [-7 (T - c), -7 (T - c) + 7), so column T-1 is the 7 days before `as_of`."""

    as_of: date
    n_weeks: int

    def days(self, values: Sequence[date]) -> IntArray:
        base = self.as_of.toordinal()
        return np.fromiter((d.toordinal() - base for d in values), np.int64, len(values))

    @property
    def first_day(self) -> int:
        return -7 * self.n_weeks


def combine(sources: Sequence[SourceWeeks], min_weeks: int = 13) -> History:
    """Per product and week the best covering source; `sources` in any order. Where the
    latest weeks' source covers at least `min_weeks`, only its weeks are history. The
    result carries each product's source (of its latest week) and how many weeks back it
    reaches."""
    ordered = sorted(sources, key=attrgetter("source"))
    if len(ordered) == 1:
        only = ordered[0]
        history = History.from_weekly(np.where(only.covered, only.weekly, 0.0))
        n, t = only.weekly.shape
        return history.with_source(np.full(n, only.source, np.int64), np.full(n, t, np.int64))
    n, t = ordered[0].weekly.shape
    weekly = np.zeros((n, t))
    chosen = np.full((n, t), len(SOURCE_NAMES), dtype=np.int64)
    for src in reversed(ordered):
        np.copyto(weekly, src.weekly, where=src.covered)
        chosen[src.covered] = int(src.source)
    latest = chosen[:, -1] if t else np.full(n, Source.SHIPMENTS, np.int64)
    other = chosen != latest[:, None]
    any_other = other.any(axis=1)
    last_other = t - 1 - np.argmax(other[:, ::-1], axis=1)
    run = np.where(any_other, t - 1 - last_other, t).astype(np.int64)
    latest = np.where(latest >= len(SOURCE_NAMES), int(Source.SHIPMENTS), latest)
    _fill_unknown(weekly, chosen, ordered)
    # Once a better source reaches far enough back, it is the product's whole history:
    # spliced onto orders, a recursive forecast would carry their sizes into the new signal.
    alone = (latest != Source.SHIPMENTS) & (run >= min_weeks)
    if alone.any():
        before = np.arange(t)[None, :] < (t - run)[:, None]
        weekly[alone[:, None] & before] = 0.0
    return History.from_weekly(weekly).with_source(latest.astype(np.int64), run)


def shipments_only(history: History) -> bool:
    """Whether no product's history is consumption (stock snapshots or the ERP's
    reports): a history `combine` did not make is shipments alone. A product whose latest
    week is shipments has consumption history when that week's run is shorter than the
    window (the ERP's last report not yet in, or on another weekday)."""
    if history.source is None:
        return True
    alone = history.source == Source.SHIPMENTS
    if history.source_weeks is not None:
        alone &= history.source_weeks >= history.n_weeks
    return bool(alone.all())


def first_covered(sources: Sequence[SourceWeeks], n: int, n_weeks: int) -> IntArray:
    """Per product, the first week any of `sources` covers (`n_weeks` where none does)."""
    first = np.full(n, n_weeks, dtype=np.int64)
    for src in sources:
        covers = src.covered.any(axis=1)
        first = np.where(covers, np.minimum(first, src.covered.argmax(axis=1)), first)
    return first


LEVEL_WEEKS = 8


def _fill_unknown(weekly: FloatArray, chosen: IntArray, sources: Sequence[SourceWeeks]) -> None:
    """Weeks a source covers without knowing (a shelf empty from sync to sync) take the
    product's shipment level of the LEVEL_WEEKS weeks before that source began: the
    customer's own orders then, never ours since (which would feed the forecast back)."""
    ships = next((s for s in sources if s.source is Source.SHIPMENTS), None)
    for src in sources:
        if src.unknown is None or ships is None:
            continue
        blind = src.unknown & (chosen == int(src.source))
        if not blind.any():
            continue
        n, t = weekly.shape
        began = first_covered([src], n, t)
        running = np.concatenate([np.zeros((n, 1)), np.cumsum(ships.weekly, axis=1)], axis=1)
        start = np.maximum(began - LEVEL_WEEKS, 0)
        rows = np.arange(n)
        span = np.maximum(began - start, 1)
        level = (running[rows, began] - running[rows, start]) / span
        weekly[blind] = np.broadcast_to(level[:, None], (n, t))[blind]


# --- shipments ---------------------------------------------------------------------------


def corrections_matrix(
    codes: Sequence[str],
    shipments: Sequence[Shipment],
    corrections: Sequence[ShipmentCorrection],
    grid: DayGrid,
) -> tuple[FloatArray, FloatArray]:
    """`corrected_shipments` of shipment models."""
    return corrected_shipments(codes, shipment_rows(codes, shipments), corrections, grid)


def corrected_shipments(
    codes: Sequence[str],
    shipped: DatedRows,
    corrections: Sequence[ShipmentCorrection],
    grid: DayGrid,
) -> tuple[FloatArray, FloatArray]:
    """(removed, added) for `shipment_source`: each correction's excess taken off the
    product's first shipment on or after the order (within CORRECTION_SHIP_DAYS days) and
    spread evenly over the weeks it covers from there; weeks not yet history drop out."""
    n, t = len(codes), grid.n_weeks
    if not corrections or not shipped.size:
        return np.zeros((n, t)), np.zeros((n, t))
    index = {c: i for i, c in enumerate(codes)}
    s_row = shipped.row
    s_day = shipped.day - grid.as_of.toordinal()
    keep = (s_row >= 0) & (s_day < 0) & (s_day >= grid.first_day)
    span = -grid.first_day + CORRECTION_SHIP_DAYS + 2
    key = np.unique(s_row[keep] * span + (s_day[keep] - grid.first_day))
    c_row = np.fromiter((index.get(c.product_code, -1) for c in corrections), np.int64)
    c_day = grid.days([c.ordered_on for c in corrections])
    excess = np.array([c.excess_cartons for c in corrections], dtype=np.float64)
    rate = np.array([c.weekly_forecast for c in corrections], dtype=np.float64)
    ok = (c_row >= 0) & (excess > 0) & (c_day >= grid.first_day - CORRECTION_SHIP_DAYS)
    c_row, c_day, excess, rate = c_row[ok], c_day[ok], excess[ok], rate[ok]
    wanted = c_row * span + (np.maximum(c_day, grid.first_day) - grid.first_day)
    at = np.searchsorted(key, wanted)
    found = at < key.size
    hit = np.where(found, key[np.minimum(at, key.size - 1)], -1)
    ship_day = hit % span + grid.first_day
    found &= (hit // span == c_row) & (ship_day - c_day <= CORRECTION_SHIP_DAYS)
    c_row, ship_day, excess, rate = c_row[found], ship_day[found], excess[found], rate[found]
    col = (ship_day - grid.first_day) // 7
    return moved_excess(n, t, c_row, col, excess, rate)


def moved_excess(
    n: int, t: int, row: IntArray, col: IntArray, excess: FloatArray, rate: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(removed, added): each excess taken off its shipment's week `col` and spread evenly
    over the `excess / rate` weeks from there (at most CORRECTION_MAX_WEEKS), in weeks < t."""
    removed = np.zeros((n, t))
    added = np.zeros((n, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        weeks = np.where(rate > 0, np.ceil(excess / rate - 1e-9), CORRECTION_MAX_WEEKS)
    weeks = np.clip(weeks, 1, CORRECTION_MAX_WEEKS).astype(np.int64)
    ok = (col >= 0) & (col < t)
    np.add.at(removed, (row[ok], col[ok]), excess[ok])
    rows = np.repeat(row, weeks)
    cols = np.repeat(col, weeks) + _ranges(weeks)
    share = np.repeat(excess / weeks, weeks)
    inside = (cols >= 0) & (cols < t)
    np.add.at(added, (rows[inside], cols[inside]), share[inside])
    return removed, added


def _ranges(lengths: IntArray) -> IntArray:
    """[0..l0-1, 0..l1-1, ...] for the given lengths."""
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.asarray(np.arange(total) - starts, dtype=np.int64)


MAX_SPREAD_WEEKS = 26  # a shipment covers at most half a year
MAX_LAST_SPREAD_WEEKS = 13  # the latest shipment (its next one unknown), at most a quarter


def spread_orders(weekly: FloatArray, better_from: IntArray | None = None) -> FloatArray:
    """Each week's shipment spread evenly over the weeks until the product's next one (the
    latest over the product's mean gap, or until now if that is at most twice as long; a
    lone one until now), at most MAX_SPREAD_WEEKS:
    a shipment is an order, which covers the consumption until the next order, not a week's
    demand. Totals are kept, except what the last shipments cover beyond the window.

    `better_from` (n,): the week a better source (stock snapshots, the ERP's reports)
    begins per product. The last shipment before it covers at least the product's mean
    gap: an order that ships sooner after the snapshots began would cut its weeks short
    and read as consumed before the first snapshot the stock that snapshot still counts
    (264 cartons, 11 weeks of a product's demand, read as 88 a week for the 2 weeks before
    the first snapshot when the next order shipped a week after it)."""
    n, t = weekly.shape
    flat = weekly.ravel()
    at = np.flatnonzero(flat > 0)  # row-major: by product, then week
    if at.size == 0:
        return weekly.copy()
    rows, cols = np.divmod(at, t)
    values = flat[at]
    last_of_row = np.ones(at.size, dtype=bool)
    last_of_row[:-1] = rows[1:] != rows[:-1]
    gap = np.empty(at.size, dtype=np.int64)
    gap[:-1] = cols[1:] - cols[:-1]
    first_of_row = np.ones(at.size, dtype=bool)
    first_of_row[1:] = last_of_row[:-1]
    count = np.bincount(rows, minlength=n)
    first = np.full(n, t, dtype=np.int64)
    first[rows[first_of_row]] = cols[first_of_row]
    last = np.zeros(n, dtype=np.int64)
    last[rows[last_of_row]] = cols[last_of_row]
    mean_gap = np.where(count > 1, np.rint((last - first) / np.maximum(count - 1, 1)), 1)
    # The latest covers until now when no order came since, unless that is far longer than
    # the product's usual gap (it stopped selling): at most twice that gap. A lone shipment
    # has no gap to go by: until now, at most MAX_LAST_SPREAD_WEEKS.
    usual = np.minimum(mean_gap, MAX_LAST_SPREAD_WEEKS)
    latest_gap = np.where(
        count > 1,
        np.maximum(usual, np.minimum(t - last, 2 * usual)),
        np.minimum(t - last, MAX_LAST_SPREAD_WEEKS),
    )
    gap[last_of_row] = latest_gap[rows[last_of_row]]
    if better_from is not None:
        begins = better_from[rows]
        next_col = np.where(last_of_row, t, np.roll(cols, -1))
        boundary = (begins < t) & (cols < begins) & (next_col >= begins)
        gap[boundary] = np.maximum(gap[boundary], mean_gap[rows[boundary]])
    gap = np.clip(gap, 1, MAX_SPREAD_WEEKS)
    # Most shipments cover the one week they are in (weekly orders): only the others spread.
    out = np.zeros(n * t)
    single = gap == 1
    out[at[single]] = values[single]
    spread = ~single
    at, cols, values, gap = at[spread], cols[spread], values[spread], gap[spread]
    offset = _ranges(gap)
    inside = np.repeat(cols, gap) + offset < t
    target = (np.repeat(at, gap) + offset)[inside]
    share = np.repeat(values / gap, gap)[inside]
    out += np.bincount(target, weights=share, minlength=n * t)
    return out.reshape(n, t)


def shipment_source(
    history: History,
    corrections: tuple[FloatArray, FloatArray] | None = None,
    *,
    spread: bool = True,
    better_from: IntArray | None = None,
) -> SourceWeeks:
    """Shipments as a source covering every week, spread over the weeks each covers (with
    `spread`); with `corrections` (removed, added), our excess is taken off (before the
    spreading) and added back over the weeks it covers.

    Spread when a better source covers the recent weeks: the shipments left are then the
    customer's own orders from before. Alone, they include ours, and spreading our orders
    into smooth-looking weeks lets the forecast chase them faster (a closed loop that runs
    away in the backtest); read as they are, the loop over-orders about 2x but settles.

    `better_from` (n,): the week a better source begins per product (`first_covered`;
    see `spread_orders`).
    """
    weekly = history.weekly
    if corrections is not None:
        weekly = np.maximum(weekly - corrections[0], 0.0)
    if spread:
        weekly = spread_orders(weekly, better_from)
    if corrections is not None:
        weekly = weekly + corrections[1]
    return SourceWeeks(Source.SHIPMENTS, weekly, np.ones(weekly.shape, dtype=bool))


# --- ERP consumption reports (EDI 852) ---------------------------------------------------


def activity_source(
    codes: Sequence[str], reports: Sequence[ConsumptionReport], grid: DayGrid
) -> SourceWeeks | None:
    """`reported_source` of report models."""
    return reported_source(report_rows(codes, reports), len(codes), grid)


def reported_source(reported: DatedRows, n: int, grid: DayGrid) -> SourceWeeks | None:
    """Each report's 7 days split over the one or two columns they fall in."""
    if not reported.size:
        return None
    start = reported.day - grid.as_of.toordinal()
    return activity_arrays(n, grid.n_weeks, reported.row, start, reported.quantity)


def activity_arrays(
    n: int, n_weeks: int, row: IntArray, start: IntArray, qty: FloatArray
) -> SourceWeeks:
    """`activity_source` from arrays: product row, first day of the week relative to
    `as_of`, cartons consumed. A week the reports cover counts for every product."""
    first = -7 * n_weeks
    ok = (start >= first - 6) & (start + 7 <= 0)
    offset = start - first
    col = np.floor_divide(offset, 7)
    in_first = 7 - np.mod(offset, 7)  # days of the report in column `col`
    covered_days = np.zeros(n_weeks + 1)
    weeks = np.unique(start[ok])
    w_off = weeks - first
    w_col = np.floor_divide(w_off, 7)
    w_in = 7 - np.mod(w_off, 7)
    for cols, days in ((w_col, w_in), (w_col + 1, 7 - w_in)):
        valid = (cols >= 0) & (cols < n_weeks)
        np.add.at(covered_days, cols[valid], days[valid])
    covered_days = np.minimum(covered_days[:n_weeks], 7)
    week_ok = covered_days >= MIN_COVERED_DAYS
    if n_weeks > 1 and week_ok[-2] and not week_ok[-1] and covered_days[-1] > 0:
        week_ok[-1] = True  # the ERP's report for the current week is not in yet
    weekly = np.zeros((n, n_weeks))
    known = ok & (row >= 0)
    for cols, days in ((col, in_first), (col + 1, 7 - in_first)):
        valid = known & (cols >= 0) & (cols < n_weeks) & (days > 0)
        np.add.at(weekly, (row[valid], cols[valid]), qty[valid] * days[valid] / 7)
    scale = np.where(week_ok, 7 / np.maximum(covered_days, 1), 0.0)
    covered = np.broadcast_to(week_ok, (n, n_weeks))
    return SourceWeeks(Source.ERP_ACTIVITY, weekly * scale, np.array(covered))


# --- stock snapshots ---------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotConsumption:
    source: SourceWeeks
    rises: int  # intervals where stock rose more than the deliveries explain (clipped to 0)
    sold_out_floor: BoolArray  # (n,) products read from sold-out floors (`_uncensored`)


def _uncensored(
    used: FloatArray, length: FloatArray, same: BoolArray, empty: BoolArray, row: IntArray
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Consumption of intervals that ended with the shelf empty is only what there was to
    consume: demand may have been higher (lost sales would otherwise lower the forecast,
    the next order, and so on down). Such an interval takes at least the rate of the
    product's nearest interval that did not end empty, the last before it or else the
    first after it.

    A product with no such interval (never in stock from one sync to the next, as a new
    product's first lots are) has only floors: an interval that sold out sold what it
    had before some day of it, no day likelier than another, so its rate is taken at the
    median, twice what it sold (`SOLD_OUT_RATE_FACTOR`). An interval that sold nothing
    (empty throughout) takes the nearest such rate of the same product; without one its
    figure says nothing (`combine` fills it from the shipments before the snapshots, not
    from our own orders). Returns consumption, the days of such blind intervals, and which
    intervals were read from a sold-out floor."""
    rate = np.where(length > 0, used / np.maximum(length, 1.0), 0.0)
    censored = same & empty
    source, known = _nearest(same & ~empty & (length > 0), row)
    sold_out = censored & ~known & (used > 0)
    floor, has_floor = _nearest(sold_out, row)
    blind = censored & ~known & ~sold_out
    used = np.where(censored & known, np.maximum(used, rate[source] * length), used)
    used = np.where(sold_out, used * SOLD_OUT_RATE_FACTOR, used)
    used = np.where(blind & has_floor, SOLD_OUT_RATE_FACTOR * rate[floor] * length, used)
    floored = sold_out | (blind & has_floor)
    blind &= ~has_floor
    return np.asarray(used), np.asarray(np.where(blind, length, 0.0)), np.asarray(floored)


def _nearest(marked: BoolArray, row: IntArray) -> tuple[IntArray, BoolArray]:
    """Per interval, the nearest marked interval of the same product: the last at or before
    it, else the first after it; and whether there is one."""
    k = np.arange(marked.size)
    before = np.maximum.accumulate(np.where(marked, k, -1))
    after = np.minimum.accumulate(np.where(marked, k, marked.size)[::-1])[::-1]
    b, a = np.maximum(before, 0), np.minimum(after, max(marked.size - 1, 0))
    has_before = (before >= 0) & (row[b] == row)
    has_after = (after < marked.size) & (row[a] == row)
    return np.where(has_before, b, a), has_before | has_after


def receipts_of(orders: Sequence[ErpOrder]) -> list[tuple[str, date, int]]:
    """(product, day received, cartons) of every delivered order line."""
    return [
        (line.product_code, o.delivered_on, line.quantity)
        for o in orders
        if o.status is OrderStatus.DELIVERED and o.delivered_on is not None
        for line in o.lines
    ]


def snapshot_source(
    codes: Sequence[str],
    snapshots: Sequence[StockSnapshot],
    current_stock: Sequence[int | None],
    orders: Sequence[ErpOrder],
    grid: DayGrid,
) -> SnapshotConsumption | None:
    """Consumption between consecutive snapshots; the current stock counts as a snapshot
    taken on `as_of` (where the input has none that day)."""
    if not snapshots:
        return None
    index = {c: i for i, c in enumerate(codes)}
    row = np.fromiter((index.get(s.product_code, -1) for s in snapshots), np.int64)
    day = grid.days([s.taken_on for s in snapshots])
    stock = np.fromiter((s.stock_on_hand for s in snapshots), np.float64, len(snapshots))
    now = np.array([i for i, s in enumerate(current_stock) if s is not None], dtype=np.int64)
    now_stock = np.array([s for s in current_stock if s is not None], dtype=np.float64)
    received = receipts_of(orders)
    r_row = np.fromiter((index.get(c, -1) for c, _, _ in received), np.int64, len(received))
    r_day = grid.days([d for _, d, _ in received])
    r_qty = np.fromiter((q for _, _, q in received), np.float64, len(received))
    # The current stock goes first so that a snapshot of the same day, if any, wins.
    return snapshot_arrays(
        len(codes),
        grid.n_weeks,
        np.concatenate([now, row]),
        np.concatenate([np.zeros(now.size, np.int64), day]),
        np.concatenate([now_stock, stock]),
        r_row,
        r_day,
        r_qty,
    )


def snapshot_arrays(
    n: int,
    n_weeks: int,
    row: IntArray,
    day: IntArray,
    stock: FloatArray,
    r_row: IntArray,
    r_day: IntArray,
    r_qty: FloatArray,
) -> SnapshotConsumption:
    """`snapshot_source` from arrays (days relative to `as_of`; a later entry for the same
    product and day replaces an earlier one). Snapshots after `as_of` are ignored."""
    first = -7 * n_weeks
    keep = (row >= 0) & (day <= 0)
    row, day, stock = row[keep], day[keep], stock[keep]
    base = min(int(day.min()) if day.size else 0, first) - 1
    span = -base + 2
    key = row * span + (day - base)
    # Last entry per (product, day): unique on the reversed order.
    uniq, at = np.unique(key[::-1], return_index=True)
    order = len(key) - 1 - at
    key, row, day, stock = uniq, row[order], day[order], stock[order]
    if key.size < 2:
        empty = np.zeros((n, n_weeks))
        none = np.zeros(n, dtype=bool)
        return SnapshotConsumption(SourceWeeks(Source.SNAPSHOTS, empty, empty > 0), 0, none)
    same = row[1:] == row[:-1]
    # Receipts per interval [day_k, day_k+1): differences of a running total.
    r_ok = r_row >= 0
    r_key = r_row[r_ok] * span + (r_day[r_ok] - base)
    sort = np.argsort(r_key, kind="stable")
    r_key, r_cum = r_key[sort], np.concatenate([[0.0], np.cumsum(r_qty[r_ok][sort])])
    first_in = np.searchsorted(r_key, key[:-1])
    received = r_cum[np.searchsorted(r_key, key[1:])] - r_cum[first_in]
    used = stock[:-1] + received - stock[1:]
    rises = int(np.count_nonzero(same & (used < -0.5)))
    used = np.where(same, np.maximum(used, 0.0), 0.0)
    length = np.where(same, day[1:] - day[:-1], 0).astype(np.float64)
    # An interval that began with the shelf empty sold only from its first delivery on:
    # its rate is what it sold over those days (without a delivery it says nothing).
    empty_start = same & (stock[:-1] <= 0.5)
    padded = np.concatenate([r_key, [-1]])  # a sentinel for "no delivery after"
    delivery = padded[first_in]
    delivered_in = empty_start & (delivery >= key[:-1]) & (delivery < key[1:])
    selling = np.where(delivered_in, key[1:] - delivery, 0).astype(np.float64)
    used = np.where(delivered_in, used * length / np.maximum(selling, 1.0), used)
    ended_empty = stock[1:] <= 0.5
    used, blind, floored = _uncensored(
        used, length, same, ended_empty | (empty_start & ~delivered_in), row[:-1]
    )
    sold_out_floor = np.zeros(n, dtype=bool)
    sold_out_floor[row[:-1][floored & (day[1:] > first)]] = True
    # Running totals of consumption and covered days at each snapshot; flat between
    # products, so interpolating at week boundaries and differencing gives per-week sums.
    f = np.concatenate([[0.0], np.cumsum(used)])
    g = np.concatenate([[0.0], np.cumsum(length)])
    b = np.concatenate([[0.0], np.cumsum(blind)])
    bounds = first + 7 * np.arange(n_weeks + 1)
    query = (np.arange(n)[:, None] * span + (bounds[None, :] - base)).ravel()
    xp = key.astype(np.float64)
    total = np.diff(np.interp(query, xp, f).reshape(n, n_weeks + 1), axis=1)
    days = np.diff(np.interp(query, xp, g).reshape(n, n_weeks + 1), axis=1)
    blind_days = np.diff(np.interp(query, xp, b).reshape(n, n_weeks + 1), axis=1)
    covered = days >= MIN_COVERED_DAYS - 1e-9
    weekly = np.where(covered, total * 7 / np.maximum(days, 1e-9), 0.0)
    unknown = covered & (blind_days * 2 > days)
    source = SourceWeeks(Source.SNAPSHOTS, weekly, covered, unknown)
    return SnapshotConsumption(source, rises, sold_out_floor)
