"""Replay one policy day by day against a customer's true demand (lost sales).

Each day: orders due that day arrive; the customer consumes min(stock, true demand), and
demand that finds no stock is lost. Every `cadence_weeks` the engine plans as of that
morning from what production would have then:
- stock on hand and the open orders, at their promised ETAs (a late order counts as
  arriving this week, as `pipeline_arrivals` does);
- the lead time measured from the orders delivered so far;
- a history: `shipments` (production without ERP consumption reports): the ERP's
  shipments, our own orders included as they ship, plus Restock's stock snapshot at each
  review, so that consumption derived from snapshots and deliveries replaces shipments
  week by week as the replay goes; `erp_activity`: the ERP reports what the customer
  consumed every week (EDI 852), before the start and during the replay;
  `shipments_only`: shipments without snapshots, the closed loop production had before
  snapshots were kept (the forecast reads our own orders).
The oracle policy gets the true demand of the coming weeks as its forecast.
Every container becomes one ERP order: it ships a week after the review and arrives after
the lead time, plus the customer's lateness (`BacktestData.slip_days`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from planning.catalog import Catalog
from planning.engine import horizon_weeks, plan_arrays
from planning.errors import PlanTooLarge
from planning.first_lots import cancelled_first_lots
from planning.history import FloatArray, History, IntArray, Pipeline
from planning.leadtime import measured
from planning.models import PIPELINE_STATUSES, ErpOrder, OrderStatus, Product, Shipment
from planning.settings import PlanSettings
from planning.sources import (
    Source,
    SourceWeeks,
    combine,
    first_covered,
    moved_excess,
    shipment_source,
    snapshot_arrays,
)

PREP_DAYS = 7
EXPLODED_FACTOR = 5.0
"""A policy that has ordered this many times the run's true demand has run away."""
HISTORY_MODES = ("shipments", "erp_activity", "shipments_only")


@dataclass(frozen=True)
class BacktestData:
    """One customer as of `start`, plus its true daily demand from `start` on."""

    start: date
    products: list[Product]
    shipments: list[Shipment]
    pipeline: list[ErpOrder]
    """The customer's ERP orders before `start`: open ones are the pipeline, delivered ones
    the order history the lead time is measured from."""
    demand: npt.NDArray[np.integer] | npt.NDArray[np.floating]  # (n_products, days)
    """True daily demand from `start`; the oracle reads beyond the run (padded with each
    product's mean where it is shorter)."""
    patterns: dict[str, str] = field(default_factory=dict)
    name: str = ""
    past_demand: npt.NDArray[np.integer] | None = None
    """True daily demand for the history window before `start` (`erp_activity` only)."""
    lead_time_weeks: float | None = None
    """The lead time the ERP promises (ETA = ordered + this); default: the settings'."""
    slip_days: Callable[[int], int] | None = None
    """Days the replay's n-th order (0-based) arrives after its ETA; None: never late."""


@dataclass
class Run:
    """What one replay produced."""

    label: str
    weekly_stock: IntArray  # (n, weeks) end-of-week stock
    stockout: npt.NDArray[np.bool_]  # (n, weeks) a week with unmet demand
    served: float
    cartons: int
    received: int  # cartons delivered during the run
    containers: int
    urgent_containers: int
    below_min_fill: int
    fills: list[float]
    exploded_week: int | None
    seconds: float


@dataclass
class _Order:
    ordered_day: int
    eta_day: int
    deliver_day: int
    vector: FloatArray


def _oracle(demand: npt.NDArray[np.int64], day: int, horizon: int) -> FloatArray:
    """True weekly demand for `horizon` weeks from `day`; past the data, each product's
    mean week."""
    n, have = demand.shape
    days = np.zeros((n, horizon * 7))
    take = max(min(have - day, horizon * 7), 0)
    days[:, :take] = demand[:, day : day + take]
    if take < horizon * 7:
        days[:, take:] = demand.mean(axis=1, keepdims=True) if have else 0.0
    return np.asarray(days.reshape(n, horizon, 7).sum(axis=2), dtype=np.float64)


def simulate(
    data: BacktestData,
    settings: PlanSettings,
    *,
    weeks: int,
    cadence_weeks: int,
    label: str,
    history: str = "shipments",
    oracle: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Run:
    """Replay `weeks` weeks of `settings` (re-planned every `cadence_weeks`)."""
    if history not in HISTORY_MODES:
        raise ValueError(f"history must be one of {', '.join(HISTORY_MODES)}, not {history!r}")
    clock = time.perf_counter()
    products = data.products
    n = len(products)
    days = weeks * 7
    if data.demand.shape[0] != n or data.demand.shape[1] < days:
        raise ValueError(f"demand covers {data.demand.shape[1]} days; {days} needed")
    demand_all = np.asarray(data.demand, dtype=np.int64)
    demand = demand_all[:, :days]
    catalog = Catalog.of(products)
    index = {c: i for i, c in enumerate(catalog.codes)}
    hist_days = settings.history_weeks * 7
    promised = (
        data.lead_time_weeks if data.lead_time_weeks is not None else settings.lead_time_weeks
    )
    eta_days = round(promised * 7)
    snapshots = history == "shipments"
    activity = history == "erp_activity"

    # Daily shipments and consumption, day 0 = start - hist_days.
    total_days = hist_days + days + PREP_DAYS + 1
    shipped = np.zeros((n, total_days))
    consumed = np.zeros((n, total_days)) if activity else None
    origin = data.start - timedelta(days=hist_days)
    if consumed is not None:
        if data.past_demand is None or data.past_demand.shape[1] < hist_days:
            raise ValueError(f"erp_activity history needs {hist_days} days of past demand")
        consumed[:, :hist_days] = data.past_demand[:, -hist_days:]
    for s in data.shipments:
        d = (s.ship_date - origin).days
        if 0 <= d < hist_days and s.product_code in index:
            shipped[index[s.product_code], d] += s.quantity

    first_lots = cancelled_first_lots(catalog.codes, data.pipeline)
    open_orders: list[_Order] = []
    lead_samples: list[tuple[int, int]] = []  # (delivered day, days from order), day from start
    for o in data.pipeline:
        vector = np.zeros(n)
        for line in o.lines:
            if line.product_code in index:
                vector[index[line.product_code]] += line.quantity
        if o.status is OrderStatus.DELIVERED and o.delivered_on is not None:
            lead_samples.append(
                ((o.delivered_on - data.start).days, (o.delivered_on - o.ordered_on).days)
            )
        if o.status not in PIPELINE_STATUSES:
            continue
        eta = o.eta or (o.ordered_on + timedelta(days=eta_days))
        day = max((eta - data.start).days, 0)
        open_orders.append(_Order((o.ordered_on - data.start).days, day, day, vector))
        ship = (o.ordered_on + timedelta(days=PREP_DAYS) - origin).days
        if hist_days <= ship < total_days:
            shipped[:, ship] += vector

    stock = np.array([max(p.stock_on_hand or 0, 0) for p in products], dtype=np.float64)
    snap_days: list[int] = []
    snap_stock: list[FloatArray] = []
    # Our orders' excess (beyond the need), as the store would send it: shipped-day index,
    # product, cartons, weekly forecast.
    excess: list[tuple[int, IntArray, FloatArray, FloatArray]] = []
    received = np.zeros((n, days + 1))
    active = catalog.active
    weekly_stock = np.zeros((n, weeks), dtype=np.int64)
    stockout = np.zeros((n, weeks), dtype=bool)
    served_total = 0.0
    cartons = containers = urgent_containers = below = 0
    fills: list[float] = []
    exploded: int | None = None
    budget = EXPLODED_FACTOR * max(float(demand[active].sum()), 1.0)
    serial = 0
    received_total = 0
    reported = -1  # the quarter of the run progress last reported
    for d in range(days):
        if d % (7 * cadence_weeks) == 0 and exploded is None:
            if snapshots:
                snap_days.append(d)
                snap_stock.append(stock.copy())
            as_of = data.start + timedelta(days=d)
            lead = measured(
                [
                    gap
                    for when, gap in lead_samples
                    if d - 7 * settings.lead_time_history_weeks <= when < d
                ],
                settings,
            )
            horizon = horizon_weeks(settings, lead)
            arrivals = np.zeros((n, horizon))
            for due in open_orders:
                arrivals[:, min(max(due.eta_day - d, 0) // 7, horizon - 1)] += due.vector
            weekly = _history(
                n, d, hist_days, shipped, consumed, snap_days, snap_stock, received, history, excess
            )
            try:
                result = plan_arrays(
                    as_of,
                    settings,
                    replace(catalog, reported_stock=np.rint(stock).astype(int).tolist()),
                    weekly,
                    Pipeline(arrivals=arrivals),
                    lead=lead,
                    forecast_override=_oracle(demand_all, d, horizon) if oracle else None,
                    first_lots=first_lots,
                )
            except PlanTooLarge:
                exploded = d // 7
            else:
                for box in result.boxes:
                    vector = np.zeros(n)
                    for code, qty in box.lines.items():
                        vector[index[code]] += qty
                    slip = data.slip_days(serial) if data.slip_days else 0
                    serial += 1
                    open_orders.append(_Order(d, d + eta_days, d + eta_days + slip, vector))
                    shipped[:, hist_days + d + PREP_DAYS] += vector
                    fills.append(100 * box.fill_fraction())
                    below += int(fills[-1] < settings.min_fill_pct - 1e-9)
                over = result.order.astype(np.float64) - np.ceil(
                    np.maximum(result.need, 0.0) - 1e-9
                )
                rows = np.flatnonzero((result.order > 0) & (over > 0)).astype(np.int64)
                if rows.size:
                    rate = result.targets.target / np.maximum(result.targets.target_weeks, 1e-9)
                    excess.append((hist_days + d + PREP_DAYS, rows, over[rows], rate[rows]))
                cartons += int(result.order.sum())
                containers += len(result.boxes)
                urgent_containers += sum(1 for b in result.boxes if b.urgent)
                if cartons > budget:
                    exploded = d // 7
            if progress is not None and (d // 7) // 13 != reported:
                reported = (d // 7) // 13
                progress(f"{label}: week {d // 7}/{weeks} ({time.perf_counter() - clock:.1f} s)")
        arriving = [x for x in open_orders if x.deliver_day <= d]
        if arriving:
            open_orders = [x for x in open_orders if x.deliver_day > d]
            for landed in arriving:
                stock += landed.vector
                received_total += int(landed.vector.sum())
                received[:, d] += landed.vector
                lead_samples.append((d, d - landed.ordered_day))
        want = demand[:, d]
        served = np.minimum(stock, want)
        stock -= served
        if consumed is not None:
            consumed[:, hist_days + d] = served
        served_total += float(served[active].sum())
        stockout[:, d // 7] |= want > served
        if d % 7 == 6:
            weekly_stock[:, d // 7] = np.rint(stock).astype(np.int64)
    return Run(
        label=label,
        weekly_stock=weekly_stock,
        stockout=stockout,
        served=served_total,
        cartons=cartons,
        received=received_total,
        containers=containers,
        urgent_containers=urgent_containers,
        below_min_fill=below,
        fills=fills,
        exploded_week=exploded,
        seconds=time.perf_counter() - clock,
    )


def _history(
    n: int,
    d: int,
    hist_days: int,
    shipped: FloatArray,
    consumed: FloatArray | None,
    snap_days: list[int],
    snap_stock: list[FloatArray],
    received: FloatArray,
    mode: str,
    excess: list[tuple[int, IntArray, FloatArray, FloatArray]],
) -> History:
    """The weekly history as of replay day `d`, through the engine's source code; our
    orders' excess corrects the shipments, as the store's `shipment_corrections` would."""
    n_weeks = hist_days // 7

    def weekly(daily: FloatArray) -> FloatArray:
        return np.asarray(daily[:, d : d + hist_days].reshape(n, n_weeks, 7).sum(axis=2))

    shipped_now = [e for e in excess if e[0] < hist_days + d]
    corrections = None
    if shipped_now:
        rows = np.concatenate([e[1] for e in shipped_now])
        cols = np.concatenate([np.full(e[1].size, (e[0] - d) // 7) for e in shipped_now])
        over = np.concatenate([e[2] for e in shipped_now])
        rate = np.concatenate([e[3] for e in shipped_now])
        corrections = moved_excess(n, n_weeks, rows, cols, over, rate)
    better: SourceWeeks | None = None
    if consumed is not None:
        better = SourceWeeks(Source.ERP_ACTIVITY, weekly(consumed), np.ones((n, n_weeks), bool))
    elif mode == "shipments" and len(snap_days) >= 2:
        k = len(snap_days)
        rows = np.tile(np.arange(n, dtype=np.int64), k)
        day = np.repeat(np.array(snap_days, dtype=np.int64) - d, n)
        stock = np.concatenate(snap_stock)
        r_row, r_day = np.nonzero(received[:, :d])
        better = snapshot_arrays(
            n, n_weeks, rows, day, stock, r_row.astype(np.int64), r_day - d, received[r_row, r_day]
        ).source
    ships = shipment_source(
        History.from_weekly(weekly(shipped)),
        corrections,
        spread=better is not None,
        better_from=None if better is None else first_covered([better], n, n_weeks),
    )
    return combine([ships] if better is None else [ships, better])
