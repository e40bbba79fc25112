"""Replay a customer for N weeks against its true demand and score a planning policy.

Pure simulation: the caller passes the data (the CLI takes it from the ERP simulator's
generator), so `planning/` imports nothing from `erp/`.

Each day: pipeline orders due that day arrive; the customer consumes min(stock, true
demand) and demand that finds no stock is lost. Every `cadence_weeks` the engine plans
as of that morning from stock on hand, open orders and a history, which is either
- "shipments" (what production sees): the ERP's delivery lines, growing with our own
  orders (shipped a preparation week after they are placed); the forecast then feeds on
  the policy's own orders, a closed loop; or
- "consumption": what the customer actually consumed (true demand before `start`, served
  demand after), isolating forecast and policy quality from that loop.
Orders arrive after the lead time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from planning.engine import Catalog, horizon_weeks, plan_arrays
from planning.history import History, Pipeline
from planning.models import PIPELINE_STATUSES, ErpOrder, Product, Shipment
from planning.settings import LastContainerPolicy, PlanSettings

PREP_DAYS = 7


@dataclass(frozen=True)
class BacktestData:
    """One customer as of `start`, plus its true daily demand from `start` on."""

    start: date
    products: list[Product]
    shipments: list[Shipment]
    pipeline: list[ErpOrder]
    demand: npt.NDArray[np.integer] | npt.NDArray[np.floating]  # (n_products, days)
    patterns: dict[str, str] = field(default_factory=dict)
    name: str = ""
    past_demand: npt.NDArray[np.integer] | None = None
    """True daily demand for the history window before `start` (consumption mode only)."""


class PolicyMetrics(BaseModel):
    policy: str
    stockout_product_weeks: int = Field(description="Active product-weeks with unmet demand")
    stockout_pct: float = Field(description="Share of active product-weeks with a stock-out")
    fill_rate_pct: float = Field(description="Demand served from stock, % of cartons")
    avg_weeks_of_cover: float = Field(
        description="Mean over weeks of total stock / total mean weekly demand (active products)"
    )
    median_product_cover_weeks: float
    containers: int
    urgent_containers: int
    avg_fill_pct: float | None
    cartons_ordered: int


class StockSeries(BaseModel):
    product_code: str
    pattern: str
    weekly_demand: list[int]
    baseline: list[int] = Field(description="Stock at the end of each week, baseline policy")
    default: list[int] = Field(description="Stock at the end of each week, default policy")


class BacktestReport(BaseModel):
    customer: str
    start: date
    weeks: int
    cadence_weeks: int
    history: str = Field(description="shipments (closed loop, as production) or consumption")
    products: int
    active_products: int
    demand_cartons: int = Field(description="True demand of active products over the run")
    baseline: PolicyMetrics
    default: PolicyMetrics
    series: list[StockSeries]


def baseline_settings(settings: PlanSettings) -> PlanSettings:
    """The spreadsheet policy: trailing average, ship whatever the last container holds."""
    return settings.model_copy(
        update={
            "forecast_method": "trailing_average",
            "last_container": LastContainerPolicy.KEEP,
        }
    )


@dataclass
class _Run:
    metrics: PolicyMetrics
    weekly_stock: npt.NDArray[np.int64]  # (n, weeks) end-of-week stock


def simulate(
    data: BacktestData,
    settings: PlanSettings,
    *,
    weeks: int,
    cadence_weeks: int,
    label: str,
    history: str = "shipments",
) -> _Run:
    products = data.products
    n = len(products)
    days = weeks * 7
    if data.demand.shape != (n, days) and data.demand.shape[1] < days:
        raise ValueError(f"demand covers {data.demand.shape[1]} days; {days} needed")
    demand = np.asarray(data.demand[:, :days], dtype=np.int64)
    catalog = Catalog.of(products)
    index = {c: i for i, c in enumerate(catalog.codes)}
    hist_days = settings.history_weeks * 7
    lead_days = settings.lead_time_weeks * 7
    horizon = horizon_weeks(settings)

    # Daily shipments, day 0 = start - hist_days; our own orders are added as they ship.
    shipped = np.zeros((n, hist_days + days + PREP_DAYS + 1))
    origin = data.start - timedelta(days=hist_days)
    consumption = history == "consumption"
    if consumption:
        if data.past_demand is None or data.past_demand.shape[1] < hist_days:
            raise ValueError(f"consumption history needs {hist_days} days of past demand")
        shipped[:, :hist_days] = data.past_demand[:, -hist_days:]
    else:
        for s in data.shipments:
            d = (s.ship_date - origin).days
            if 0 <= d < hist_days and s.product_code in index:
                shipped[index[s.product_code], d] += s.quantity

    due: dict[int, npt.NDArray[np.float64]] = {}  # day (from start) -> cartons arriving

    def add_due(day: int, vector: npt.NDArray[np.float64]) -> None:
        due[day] = due.get(day, np.zeros(n)) + vector

    for o in data.pipeline:
        if o.status not in PIPELINE_STATUSES:
            continue
        eta = o.eta or (o.ordered_on + timedelta(days=lead_days))
        vector = np.zeros(n)
        for line in o.lines:
            if line.product_code in index:
                vector[index[line.product_code]] += line.quantity
        add_due(max((eta - data.start).days, 0), vector)
        ship = (o.ordered_on + timedelta(days=PREP_DAYS) - origin).days
        if not consumption and hist_days <= ship < shipped.shape[1]:
            shipped[:, ship] += vector

    stock = np.array([max(p.stock_on_hand or 0, 0) for p in products], dtype=np.float64)
    active = catalog.active
    weekly_stock = np.zeros((n, weeks), dtype=np.int64)
    stockout = np.zeros((n, weeks), dtype=bool)
    served_total = 0.0
    containers = urgent_containers = 0
    fills: list[float] = []
    cartons = 0
    for d in range(days):
        if d % (7 * cadence_weeks) == 0:
            as_of = data.start + timedelta(days=d)
            window = shipped[:, d : d + hist_days]  # the hist_days before as_of
            weekly = History.from_weekly(window.reshape(n, -1, 7).sum(axis=2))
            arrivals = np.zeros((n, horizon))
            for day, vector in due.items():
                if day >= d:
                    arrivals[:, min((day - d) // 7, horizon - 1)] += vector
            result = plan_arrays(
                as_of,
                settings,
                replace(catalog, reported_stock=np.rint(stock).astype(int).tolist()),
                weekly,
                Pipeline(arrivals=arrivals),
            )
            if result.order.sum() > 0:
                order = result.order.astype(np.float64)
                add_due(d + lead_days, order)
                if not consumption:
                    shipped[:, hist_days + d + PREP_DAYS] += order
                cartons += int(result.order.sum())
                containers += len(result.boxes)
                urgent_containers += sum(1 for b in result.boxes if b.urgent)
                fills += [100 * b.fill_fraction() for b in result.boxes]
        if d in due:
            stock += due.pop(d)
        want = demand[:, d]
        served = np.minimum(stock, want)
        stock -= served
        if consumption:
            shipped[:, hist_days + d] = served
        served_total += float(served[active].sum())
        stockout[:, d // 7] |= want > served
        if d % 7 == 6:
            weekly_stock[:, d // 7] = np.rint(stock).astype(np.int64)

    total_demand = float(demand[active].sum())
    weekly_mean = demand.sum(axis=1) / weeks
    with_demand = active & (weekly_mean > 0)
    aggregate = weekly_stock[with_demand].sum(axis=0) / max(weekly_mean[with_demand].sum(), 1e-9)
    per_product = weekly_stock[with_demand].mean(axis=1) / weekly_mean[with_demand]
    active_weeks = int(active.sum()) * weeks
    metrics = PolicyMetrics(
        policy=label,
        stockout_product_weeks=int(stockout[active].sum()),
        stockout_pct=round(100 * stockout[active].sum() / max(active_weeks, 1), 2),
        fill_rate_pct=round(100 * served_total / total_demand, 2) if total_demand else 100.0,
        avg_weeks_of_cover=round(float(aggregate.mean()), 2),
        median_product_cover_weeks=round(float(np.median(per_product)), 2)
        if per_product.size
        else 0.0,
        containers=containers,
        urgent_containers=urgent_containers,
        avg_fill_pct=round(sum(fills) / len(fills), 2) if fills else None,
        cartons_ordered=cartons,
    )
    return _Run(metrics=metrics, weekly_stock=weekly_stock)


def chart_products(data: BacktestData, count: int) -> list[int]:
    """A few telling products: the biggest seller of each pattern, then the biggest overall."""
    weekly = np.asarray(data.demand, dtype=np.float64).sum(axis=1)
    order = np.argsort(-weekly, kind="stable")
    chosen: list[int] = []
    seen: set[str] = set()
    active = [p.status == "active" for p in data.products]
    for r in order.tolist():
        pattern = data.patterns.get(data.products[r].code, "")
        if active[r] and pattern not in seen and weekly[r] > 0:
            chosen.append(r)
            seen.add(pattern)
        if len(chosen) == count:
            return chosen
    for r in order.tolist():
        if len(chosen) == count:
            break
        if r not in chosen and active[r]:
            chosen.append(r)
    return chosen


def run_backtest(
    data: BacktestData,
    settings: PlanSettings,
    *,
    weeks: int = 52,
    cadence_weeks: int = 1,
    chart_count: int = 4,
    history: str = "shipments",
) -> BacktestReport:
    """Score the baseline and `settings` (the default policy) on the same data."""
    base = simulate(
        data,
        baseline_settings(settings),
        weeks=weeks,
        cadence_weeks=cadence_weeks,
        label="baseline",
        history=history,
    )
    default = simulate(
        data, settings, weeks=weeks, cadence_weeks=cadence_weeks, label="default", history=history
    )
    demand = np.asarray(data.demand[:, : weeks * 7], dtype=np.int64)
    weekly_demand = demand.reshape(demand.shape[0], weeks, 7).sum(axis=2)
    series = [
        StockSeries(
            product_code=data.products[r].code,
            pattern=data.patterns.get(data.products[r].code, ""),
            weekly_demand=weekly_demand[r].tolist(),
            baseline=base.weekly_stock[r].tolist(),
            default=default.weekly_stock[r].tolist(),
        )
        for r in chart_products(data, chart_count)
    ]
    return BacktestReport(
        customer=data.name,
        start=data.start,
        weeks=weeks,
        cadence_weeks=cadence_weeks,
        history=history,
        products=len(data.products),
        active_products=sum(1 for p in data.products if p.status == "active"),
        demand_cartons=int(demand[[p.status == "active" for p in data.products]].sum()),
        baseline=base.metrics,
        default=default.metrics,
        series=series,
    )
