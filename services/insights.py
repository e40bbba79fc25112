"""The supplier's figures across customers: one definition of each, computed from facts the
store holds (`store.insights` reads them), for the ops insights page and its exports.

Definitions, for a period [start, end):
- reviews: recommendations made in the period; their outcome as it stands (approved by a
  buyer, auto-approved, rejected with its reason, expired; the rest still open or replaced);
- approval latency: made → approved by a buyer, for the period's reviews a buyer approved
  (median and 90th percentile, nearest rank, in hours); auto-approvals take no one's time;
- shares auto-approved, rejected and expired: of the period's reviews that were decided;
- containers and cartons ordered: Restock's orders placed in the period that reached the
  ERP's books or are on their way (not failed or cancelled), one order per container;
- average fill and pull-forward cartons: of the period's approved recommendations, as
  planned;
- on time: orders delivered in the period on or before the date first promised (else the
  ERP's ETA); late shipments: orders flagged late that are open or were delivered in it;
- stock-outs, excess and data-quality issues now: as of each customer's latest sync;
- forecast error: each recommendation's weekly forecast of each line it ordered (of several
  versions made for the same day, the last) against the weekly consumption observed in the
  EVALUATION_DAYS after it (`observed_weekly`); MAE% is the sum of absolute errors over the
  sum of consumption, bias% the sum of signed errors over it (positive: forecast too high),
  over the recommendations made in the period whose following weeks are known;
- stock-outs and excess over the period: products a sync found stocked out while selling,
  or holding more than the maximum cover at the product's current forecast;
- ERP health: the period's syncs that succeeded and their failed attempts (error rate: of
  all attempts), the share that needed a retry, and their duration (median, 90th
  percentile) as the audit log recorded them.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from planning.settings import PlanSettings
from store import insights as store_insights
from store.insights import (
    APPROVED,
    AUTO_APPROVED,
    EXPIRED,
    REJECTED,
    CustomerRef,
    ForecastFact,
    OrderFact,
    ProductStockFact,
    ReceiptFact,
    ReviewFact,
    StockFact,
    SyncFact,
)

DECIDED = (APPROVED, AUTO_APPROVED, REJECTED, EXPIRED)
EVALUATION_DAYS = 28
DEFAULT_MAX_COVER_WEEKS = PlanSettings().max_cover_weeks


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"the period ends ({self.end}) on or before it starts ({self.start})")

    def holds(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last(self) -> date:
        """The period's last day (`end` is the day after)."""
        return self.end - timedelta(days=1)

    @classmethod
    def last_days(cls, days: int, today: date) -> Period:
        return cls(today - timedelta(days=days - 1), today + timedelta(days=1))


@dataclass
class CustomerKpis:
    customer: CustomerRef
    reviews: int = 0
    approved: int = 0
    auto_approved: int = 0
    rejected: int = 0
    expired: int = 0
    rejection_reasons: list[str] = field(default_factory=list)
    approval_latency_median_h: float | None = None
    approval_latency_p90_h: float | None = None
    auto_approved_pct: float | None = None
    rejected_pct: float | None = None
    expired_pct: float | None = None
    containers_ordered: int = 0
    cartons_ordered: int = 0
    average_fill_pct: float | None = None
    filled_containers: int = 0  # the containers `average_fill_pct` is over
    pulled_forward_cartons: int = 0
    delivered: int = 0
    delivered_on_time: int = 0
    on_time_pct: float | None = None
    late_shipments: int = 0
    stocked_out: int = 0
    runs_out_before_arrival: int = 0
    excess: int = 0
    data_quality_issues: int = 0
    forecasts_checked: int = 0
    forecast_mae_pct: float | None = None
    forecast_bias_pct: float | None = None
    stocked_out_in_period: int = 0
    excess_in_period: int = 0
    syncs: int = 0
    sync_failures: int = 0
    syncs_retried: int = 0
    sync_error_pct: float | None = None
    sync_retried_pct: float | None = None
    sync_median_s: float | None = None
    sync_p90_s: float | None = None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in (0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def customer_kpis(
    customer: CustomerRef,
    period: Period,
    reviews: Iterable[ReviewFact],
    orders: Iterable[OrderFact],
    stock: StockFact | None,
    checks: Iterable[ForecastCheck] = (),
    stock_checks: Iterable[StockCheck] = (),
    syncs: Iterable[SyncFact] = (),
) -> CustomerKpis:
    """One customer's figures; facts of other customers are ignored."""
    out = CustomerKpis(customer)
    cid = customer.customer_id
    made = [r for r in reviews if r.customer_id == cid and period.holds(r.created_at.date())]
    out.reviews = len(made)
    by_outcome = {kind: [r for r in made if r.outcome == kind] for kind in DECIDED}
    out.approved, out.auto_approved = len(by_outcome[APPROVED]), len(by_outcome[AUTO_APPROVED])
    out.rejected, out.expired = len(by_outcome[REJECTED]), len(by_outcome[EXPIRED])
    out.rejection_reasons = [r.reason for r in by_outcome[REJECTED] if r.reason]
    out.approval_latency_median_h, out.approval_latency_p90_h = _median_p90(
        approval_latencies(made, period)
    )
    decided = sum(len(v) for v in by_outcome.values())
    out.auto_approved_pct = _pct(out.auto_approved, decided)
    out.rejected_pct = _pct(out.rejected, decided)
    out.expired_pct = _pct(out.expired, decided)
    ordered = by_outcome[APPROVED] + by_outcome[AUTO_APPROVED]
    fills = [(r.average_fill_pct, r.containers) for r in ordered if r.average_fill_pct is not None]
    out.filled_containers = sum(n for _, n in fills)
    if out.filled_containers:
        out.average_fill_pct = round(sum(f * n for f, n in fills) / out.filled_containers, 1)
    out.pulled_forward_cartons = sum(r.pulled_forward_cartons for r in ordered)

    mine = [o for o in orders if o.customer_id == cid]
    placed = [o for o in mine if o.placed and period.holds(o.ordered_on)]
    out.containers_ordered = len(placed)
    out.cartons_ordered = sum(o.cartons for o in placed)
    delivered = [o for o in mine if o.delivered_on is not None and period.holds(o.delivered_on)]
    out.delivered = len(delivered)
    out.delivered_on_time = sum(1 for o in delivered if _on_time(o))
    out.on_time_pct = _pct(out.delivered_on_time, out.delivered)
    out.late_shipments = sum(1 for o in mine if o.late and (o.open or o in delivered))
    if stock is not None:
        out.stocked_out = stock.stocked_out
        out.runs_out_before_arrival = stock.runs_out_before_arrival
        out.excess = stock.excess + stock.too_much_on_order
        out.data_quality_issues = stock.data_quality_issues
    judged = accuracy(c for c in checks if c.customer_id == cid and period.holds(c.as_of))
    out.forecasts_checked, out.forecast_mae_pct, out.forecast_bias_pct = judged
    seen = [c for c in stock_checks if c.customer_id == cid and period.holds(c.day)]
    out.stocked_out_in_period = len({c.product_code for c in seen if c.stocked_out})
    out.excess_in_period = len({c.product_code for c in seen if not c.stocked_out})
    _sync_health(out, [f for f in syncs if f.customer_id == cid and period.holds(f.at.date())])
    return out


def _sync_health(out: CustomerKpis, syncs: Sequence[SyncFact]) -> None:
    done = [f for f in syncs if f.ok]
    out.syncs, out.sync_failures = len(done), len(syncs) - len(done)
    out.syncs_retried = sum(1 for f in done if f.attempt > 1)
    out.sync_error_pct = _pct(out.sync_failures, len(syncs))
    out.sync_retried_pct = _pct(out.syncs_retried, out.syncs)
    out.sync_median_s, out.sync_p90_s = _median_p90(
        [f.duration_s for f in done if f.duration_s is not None]
    )


def _median_p90(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p90 = percentile(values, 0.9)
    return round(statistics.median(values), 2), None if p90 is None else round(p90, 2)


# --- forecast error and stock over time ---------------------------------------------------


@dataclass(frozen=True)
class ForecastCheck:
    """A recommendation's weekly forecast of a product and the consumption that followed."""

    customer_id: int
    as_of: date
    forecast: float
    actual: float


class Accuracy(NamedTuple):
    checked: int
    mae_pct: float | None
    bias_pct: float | None


def accuracy(checks: Iterable[ForecastCheck]) -> Accuracy:
    """MAE% and bias% of `checks` against the consumption (None when none was consumed)."""
    pairs = list(checks)
    consumed = sum(c.actual for c in pairs)
    if consumed <= 0:
        return Accuracy(len(pairs), None, None)
    mae = sum(abs(c.forecast - c.actual) for c in pairs) / consumed
    bias = sum(c.forecast - c.actual for c in pairs) / consumed
    return Accuracy(len(pairs), round(100 * mae, 1), round(100 * bias, 1))


def observed_weekly(
    product: ProductStockFact, receipts: Iterable[ReceiptFact], start: date, end: date
) -> float | None:
    """Cartons consumed per week in [start, end), as the product's data tells it: the ERP's
    weekly reports of the weeks inside it where the ERP reports any, else the stock counts
    read inside it (stock before + received - stock after, between consecutive counts;
    an interval that ended with the shelf empty tells what there was, not the demand, and
    is left out). None when less than a week is known."""
    lo, hi = start.toordinal(), end.toordinal()
    used = days = 0
    if product.reports:
        for week, consumed, _ in product.reports:
            if week is not None and lo <= week and week + 7 <= hi:
                used, days = used + int(consumed or 0), days + 7
    else:
        arrived = [(r.day.toordinal(), r.cartons) for r in receipts]
        counts = [(day, stock) for day, stock in product.stock_counts if lo <= day <= hi]
        for (before_day, before), (after_day, after) in pairwise(counts):
            if after <= 0:
                continue
            received = sum(n for day, n in arrived if before_day <= day < after_day)
            used += max(before + received - after, 0)
            days += after_day - before_day
    return used * 7 / days if days >= 7 else None


def forecast_checks(
    forecasts: Iterable[ForecastFact],
    products: Iterable[ProductStockFact],
    receipts: Iterable[ReceiptFact],
) -> list[ForecastCheck]:
    """Each forecast whose EVALUATION_DAYS after it are known, with what was consumed."""
    product_of = {(p.customer_id, p.product_code): p for p in products}
    received: dict[tuple[int, str], list[ReceiptFact]] = defaultdict(list)
    for r in receipts:
        received[(r.customer_id, r.product_code)].append(r)
    out = []
    for f in forecasts:
        key = (f.customer_id, f.product_code)
        product = product_of.get(key)
        if product is None:
            continue
        end = f.as_of + timedelta(days=EVALUATION_DAYS)
        actual = observed_weekly(product, received[key], f.as_of, end)
        if actual is not None:
            out.append(ForecastCheck(f.customer_id, f.as_of, f.weekly, actual))
    return out


@dataclass(frozen=True)
class StockCheck:
    """A sync that found a selling product stocked out, or (else) holding excess."""

    customer_id: int
    product_code: str
    day: date
    stocked_out: bool


def stock_checks(
    products: Iterable[ProductStockFact], max_cover: Mapping[int, float], period: Period
) -> list[StockCheck]:
    """The period's stock counts that found a product stocked out or in excess: more on
    hand than the customer's maximum cover (its latest plan's) at the product's current
    weekly forecast. Products that do not sell are neither."""
    out = []
    for p in products:
        if not p.weekly_forecast or p.weekly_forecast <= 0:
            continue
        limit = max_cover.get(p.customer_id, DEFAULT_MAX_COVER_WEEKS) * p.weekly_forecast
        for ordinal, stock in p.stock_counts:
            day = date.fromordinal(ordinal)
            if period.holds(day) and (stock <= 0 or stock > limit):
                out.append(StockCheck(p.customer_id, p.product_code, day, stock <= 0))
    return out


@dataclass(frozen=True)
class TrendWeek:
    """Every customer's figures of one week (Monday to Sunday) of the period."""

    week: date
    forecasts_checked: int
    forecast_mae_pct: float | None
    forecast_bias_pct: float | None
    stocked_out: int  # products (of any customer) a sync found stocked out that week
    excess: int
    syncs: int
    sync_failures: int


def trend(
    period: Period,
    checks: Sequence[ForecastCheck],
    stock: Sequence[StockCheck],
    syncs: Sequence[SyncFact],
) -> list[TrendWeek]:
    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    weeks = []
    week = monday(period.start)
    while week < period.end:
        inside = Period(max(week, period.start), min(week + timedelta(days=7), period.end))
        judged = accuracy(c for c in checks if inside.holds(c.as_of))
        seen = [c for c in stock if inside.holds(c.day)]
        tried = [f for f in syncs if inside.holds(f.at.date())]
        weeks.append(
            TrendWeek(
                week=week,
                forecasts_checked=judged.checked,
                forecast_mae_pct=judged.mae_pct,
                forecast_bias_pct=judged.bias_pct,
                stocked_out=len({(c.customer_id, c.product_code) for c in seen if c.stocked_out}),
                excess=len({(c.customer_id, c.product_code) for c in seen if not c.stocked_out}),
                syncs=sum(1 for f in tried if f.ok),
                sync_failures=sum(1 for f in tried if not f.ok),
            )
        )
        week += timedelta(days=7)
    return weeks


def _on_time(order: OrderFact) -> bool:
    promised = order.promised_eta or order.eta
    return (
        promised is not None and order.delivered_on is not None and order.delivered_on <= promised
    )


def totals(
    rows: Sequence[CustomerKpis],
    latencies_h: Sequence[float],
    checks: Iterable[ForecastCheck] = (),
    syncs: Sequence[SyncFact] = (),
) -> CustomerKpis:
    """Every customer's figures together: counts summed, shares and the average fill
    re-weighted, latencies over every buyer approval (`approval_latencies`), forecast error
    over every check and sync durations over every sync (the period's), not averaged."""
    whole = CustomerKpis(CustomerRef(0, "All customers", ""))
    for name in (
        "reviews", "approved", "auto_approved", "rejected", "expired", "containers_ordered",
        "cartons_ordered", "pulled_forward_cartons", "delivered", "delivered_on_time",
        "late_shipments", "stocked_out", "runs_out_before_arrival", "excess",
        "data_quality_issues", "stocked_out_in_period", "excess_in_period",
    ):  # fmt: skip
        setattr(whole, name, sum(getattr(r, name) for r in rows))
    whole.rejection_reasons = [reason for r in rows for reason in r.rejection_reasons]
    decided = whole.approved + whole.auto_approved + whole.rejected + whole.expired
    whole.auto_approved_pct = _pct(whole.auto_approved, decided)
    whole.rejected_pct = _pct(whole.rejected, decided)
    whole.expired_pct = _pct(whole.expired, decided)
    whole.on_time_pct = _pct(whole.delivered_on_time, whole.delivered)
    whole.filled_containers = sum(r.filled_containers for r in rows)
    if whole.filled_containers:
        filled = sum((r.average_fill_pct or 0) * r.filled_containers for r in rows)
        whole.average_fill_pct = round(filled / whole.filled_containers, 1)
    whole.approval_latency_median_h, whole.approval_latency_p90_h = _median_p90(latencies_h)
    judged = accuracy(checks)
    whole.forecasts_checked, whole.forecast_mae_pct, whole.forecast_bias_pct = judged
    _sync_health(whole, syncs)
    return whole


def insights(
    customers: Sequence[CustomerRef],
    period: Period,
    reviews: Sequence[ReviewFact],
    orders: Sequence[OrderFact],
    stock: Sequence[StockFact],
    checks: Sequence[ForecastCheck] = (),
    stock_over_time: Sequence[StockCheck] = (),
    syncs: Sequence[SyncFact] = (),
) -> list[CustomerKpis]:
    stock_of = {s.customer_id: s for s in stock}
    reviews_of, orders_of = _by_customer(reviews), _by_customer(orders)
    checks_of, stock_checks_of = _by_customer(checks), _by_customer(stock_over_time)
    syncs_of = _by_customer(syncs)
    return [
        customer_kpis(
            c,
            period,
            reviews_of[c.customer_id],
            orders_of[c.customer_id],
            stock_of.get(c.customer_id),
            checks_of[c.customer_id],
            stock_checks_of[c.customer_id],
            syncs_of[c.customer_id],
        )
        for c in customers
    ]


def _by_customer(facts: Iterable[Any]) -> defaultdict[int, list[Any]]:
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    for fact in facts:
        grouped[fact.customer_id].append(fact)
    return grouped


def approval_latencies(reviews: Iterable[ReviewFact], period: Period) -> list[float]:
    """Hours from made to approved by a buyer, for the period's reviews."""
    return [
        (r.decided_at - r.created_at).total_seconds() / 3600
        for r in reviews
        if r.outcome == APPROVED and r.decided_at is not None and period.holds(r.created_at.date())
    ]


@dataclass(frozen=True)
class InsightsView:
    period: Period
    rows: list[CustomerKpis]
    total: CustomerKpis
    weeks: list[TrendWeek] = field(default_factory=list)


async def load_insights(session: AsyncSession, period: Period) -> InsightsView:
    start, end = period.start, period.end
    reviews = await store_insights.review_facts(session, start, end)
    products = await store_insights.product_stock_facts(session)
    # One date decides, as in the rows: the plan day (a review made in the period may have
    # been planned for the ERP's business day before it).
    checks = [
        c
        for c in forecast_checks(
            await store_insights.forecast_facts(session, start, end),
            products,
            await store_insights.receipt_facts(session, start, end + timedelta(EVALUATION_DAYS)),
        )
        if period.holds(c.as_of)
    ]
    over_time = stock_checks(products, await store_insights.max_cover_weeks(session), period)
    syncs = await store_insights.sync_facts(session, start, end)
    rows = insights(
        await store_insights.customer_refs(session),
        period,
        reviews,
        await store_insights.order_facts(session, start, end),
        await store_insights.stock_facts(session),
        checks,
        over_time,
        syncs,
    )
    total = totals(rows, approval_latencies(reviews, period), checks, syncs)
    return InsightsView(period, rows, total, trend(period, checks, over_time, syncs))


EXPORT_COLUMNS: list[tuple[str, Callable[[CustomerKpis], Any]]] = [
    ("Customer", lambda k: k.customer.name),
    ("ERP code", lambda k: k.customer.erp_code),
    ("Reviews", lambda k: k.reviews),
    ("Approved by a buyer", lambda k: k.approved),
    ("Auto-approved", lambda k: k.auto_approved),
    ("Rejected", lambda k: k.rejected),
    ("Expired", lambda k: k.expired),
    ("Approval latency median (h)", lambda k: k.approval_latency_median_h),
    ("Approval latency p90 (h)", lambda k: k.approval_latency_p90_h),
    ("Auto-approved %", lambda k: k.auto_approved_pct),
    ("Rejected %", lambda k: k.rejected_pct),
    ("Expired %", lambda k: k.expired_pct),
    ("Containers ordered", lambda k: k.containers_ordered),
    ("Cartons ordered", lambda k: k.cartons_ordered),
    ("Average fill %", lambda k: k.average_fill_pct),
    ("Pull-forward cartons", lambda k: k.pulled_forward_cartons),
    ("Delivered", lambda k: k.delivered),
    ("On time %", lambda k: k.on_time_pct),
    ("Late shipments", lambda k: k.late_shipments),
    ("Stocked out (products)", lambda k: k.stocked_out),
    ("Run out before arrival (products)", lambda k: k.runs_out_before_arrival),
    ("Excess (products)", lambda k: k.excess),
    ("Data-quality issues", lambda k: k.data_quality_issues),
    ("Forecasts checked", lambda k: k.forecasts_checked),
    ("Forecast MAE %", lambda k: k.forecast_mae_pct),
    ("Forecast bias %", lambda k: k.forecast_bias_pct),
    ("Stocked out in period (products)", lambda k: k.stocked_out_in_period),
    ("Excess in period (products)", lambda k: k.excess_in_period),
    ("Syncs", lambda k: k.syncs),
    ("Failed sync attempts", lambda k: k.sync_failures),
    ("Sync error %", lambda k: k.sync_error_pct),
    ("Syncs retried %", lambda k: k.sync_retried_pct),
    ("Sync median (s)", lambda k: k.sync_median_s),
    ("Sync p90 (s)", lambda k: k.sync_p90_s),
    ("Rejection reasons", lambda k: "; ".join(k.rejection_reasons)),
]


def export_rows(view: InsightsView) -> list[list[Any]]:
    """The header, a row per customer, then the totals: what the CSV and XLSX hold."""
    return [[title for title, _ in EXPORT_COLUMNS]] + [
        [get(k) for _, get in EXPORT_COLUMNS] for k in [*view.rows, view.total]
    ]
