"""Score planning policies against the oracle on one customer's replay (`replay.py`).

Pure: the caller passes the data (the CLI takes it from the ERP simulator's generator), so
`planning/` imports nothing from `erp/`. Policies, all on the same data:
- `oracle`: the default policy fed the true future demand: the best any forecast could do;
- `default`: the settings as given (auto forecast, auto last container);
- `baseline`: the spreadsheet: trailing average, the last container shipped as it is;
- `forecast_only` and `containers_only`: the baseline with one of the default's two
  changes, so that each factor's effect shows on its own (`FactorEffect`).
A policy that runs away (orders more than five times the run's demand, or a plan of more
than `engine.MAX_CONTAINERS` containers) is stopped and reported as exploded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
from pydantic import BaseModel, Field

from planning.replay import BacktestData, Run, simulate
from planning.settings import PlanSettings

__all__ = [
    "BacktestData",
    "BacktestReport",
    "FactorEffect",
    "PolicyMetrics",
    "PolicySummary",
    "baseline_settings",
    "criteria",
    "run_backtest",
    "summarize",
]

POLICY_DESCRIPTIONS = {
    "oracle": "default policy fed the true future demand",
    "default": "auto forecast, auto last container (the settings as given)",
    "baseline": "trailing average, last container shipped as it is",
    "forecast_only": "auto forecast, last container shipped as it is",
    "containers_only": "trailing average, auto last container",
}


class PolicyMetrics(BaseModel):
    policy: str
    description: str = ""
    exploded_week: int | None = Field(
        default=None, description="The week the policy ran away (stopped); None: it did not"
    )
    stockout_product_weeks: int = Field(description="Active product-weeks with unmet demand")
    stockout_pct: float = Field(description="Share of active product-weeks with a stock-out")
    fill_rate_pct: float = Field(description="Demand served from stock, % of cartons")
    avg_weeks_of_cover: float = Field(
        description="Mean over weeks of total stock / total mean weekly demand (active products)"
    )
    median_product_cover_weeks: float
    containers: int
    urgent_containers: int
    below_min_fill_containers: int = 0
    avg_fill_pct: float | None
    cartons_ordered: int
    cartons_received: int = Field(
        default=0, description="Cartons delivered within the run (open orders at the end left out)"
    )
    seconds: float = 0.0

    @property
    def exploded(self) -> bool:
        return self.exploded_week is not None


class FactorEffect(BaseModel):
    """What one change does with everything else held: `changed` minus `reference`."""

    factor: str
    held: str
    reference: str
    changed: str
    stockout_pct: float
    fill_rate_pct: float
    avg_weeks_of_cover: float
    cartons_ordered: int
    avg_fill_pct: float | None


class StockSeries(BaseModel):
    product_code: str
    pattern: str
    weekly_demand: list[int]
    baseline: list[int] = Field(description="Stock at the end of each week, baseline policy")
    default: list[int] = Field(description="Stock at the end of each week, default policy")
    oracle: list[int] = Field(default_factory=list, description="The same, oracle policy")


class BacktestReport(BaseModel):
    customer: str
    start: date
    weeks: int
    cadence_weeks: int
    history: str = Field(description="shipments (as production), erp_activity, shipments_only")
    products: int
    active_products: int
    demand_cartons: int = Field(description="True demand of active products over the run")
    policies: list[PolicyMetrics]
    factors: list[FactorEffect] = Field(default_factory=list)
    criteria: dict[str, bool] = Field(
        default_factory=dict, description="The default policy against the oracle (`criteria`)"
    )
    series: list[StockSeries]

    def policy(self, name: str) -> PolicyMetrics:
        return next(p for p in self.policies if p.policy == name)

    @property
    def baseline(self) -> PolicyMetrics:
        return self.policy("baseline")

    @property
    def default(self) -> PolicyMetrics:
        return self.policy("default")

    @property
    def oracle(self) -> PolicyMetrics:
        return self.policy("oracle")


def baseline_settings(settings: PlanSettings) -> PlanSettings:
    """The spreadsheet policy: trailing average, ship whatever the last container holds.
    Validated like any settings."""
    return variant(settings, forecast_method="trailing_average", last_container="keep")


def variant(settings: PlanSettings, **changes: object) -> PlanSettings:
    return PlanSettings.model_validate({**settings.model_dump(), **changes})


def policy_settings(settings: PlanSettings) -> dict[str, tuple[PlanSettings, bool]]:
    """Each policy's settings and whether it is fed the true demand."""
    return {
        "oracle": (settings, True),
        "default": (settings, False),
        "baseline": (baseline_settings(settings), False),
        "forecast_only": (variant(settings, last_container="keep"), False),
        "containers_only": (variant(settings, forecast_method="trailing_average"), False),
    }


def metrics(run: Run, data: BacktestData, weeks: int, min_fill_pct: float) -> PolicyMetrics:
    catalog_active = np.array([p.status == "active" for p in data.products], dtype=bool)
    demand = np.asarray(data.demand[:, : weeks * 7], dtype=np.int64)
    total_demand = float(demand[catalog_active].sum())
    weekly_mean = demand.sum(axis=1) / weeks
    with_demand = catalog_active & (weekly_mean > 0)
    stock = run.weekly_stock[with_demand]
    aggregate = stock.sum(axis=0) / max(weekly_mean[with_demand].sum(), 1e-9)
    per_product = stock.mean(axis=1) / weekly_mean[with_demand]
    active_weeks = int(catalog_active.sum()) * weeks
    out = run.stockout[catalog_active].sum()
    return PolicyMetrics(
        policy=run.label,
        description=POLICY_DESCRIPTIONS.get(run.label, ""),
        exploded_week=run.exploded_week,
        stockout_product_weeks=int(out),
        stockout_pct=round(100 * out / max(active_weeks, 1), 2),
        fill_rate_pct=round(100 * run.served / total_demand, 2) if total_demand else 100.0,
        avg_weeks_of_cover=round(float(aggregate.mean()), 2),
        median_product_cover_weeks=round(float(np.median(per_product)), 2)
        if per_product.size
        else 0.0,
        containers=run.containers,
        urgent_containers=run.urgent_containers,
        below_min_fill_containers=run.below_min_fill,
        avg_fill_pct=round(sum(run.fills) / len(run.fills), 2) if run.fills else None,
        cartons_ordered=run.cartons,
        cartons_received=run.received,
        seconds=round(run.seconds, 1),
    )


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


FACTORS = (
    ("forecast", "last container shipped as it is", "baseline", "forecast_only"),
    ("forecast", "auto last container", "containers_only", "default"),
    ("last container", "trailing-average forecast", "baseline", "containers_only"),
    ("last container", "auto forecast", "forecast_only", "default"),
)


def factor_effects(by_name: dict[str, PolicyMetrics]) -> list[FactorEffect]:
    out = []
    for factor, held, ref, changed in FACTORS:
        a, b = by_name.get(ref), by_name.get(changed)
        if a is None or b is None or a.exploded or b.exploded:
            continue
        fill = (
            round(b.avg_fill_pct - a.avg_fill_pct, 2)
            if a.avg_fill_pct is not None and b.avg_fill_pct is not None
            else None
        )
        out.append(
            FactorEffect(
                factor=factor,
                held=held,
                reference=ref,
                changed=changed,
                stockout_pct=round(b.stockout_pct - a.stockout_pct, 2),
                fill_rate_pct=round(b.fill_rate_pct - a.fill_rate_pct, 2),
                avg_weeks_of_cover=round(b.avg_weeks_of_cover - a.avg_weeks_of_cover, 2),
                cartons_ordered=b.cartons_ordered - a.cartons_ordered,
                avg_fill_pct=fill,
            )
        )
    return out


def criteria(policy: PolicyMetrics, oracle: PolicyMetrics) -> dict[str, bool]:
    """The issue's bar for a policy against the oracle, each rule by name."""
    if policy.exploded:
        return {"not_exploded": False}
    fill = policy.avg_fill_pct or 0.0
    return {
        "stockout_within_oracle_plus_1pp": policy.stockout_pct <= oracle.stockout_pct + 1.0,
        "stockout_at_most_2pct": policy.stockout_pct <= 2.0,
        "fill_rate_at_least_98pct": policy.fill_rate_pct >= 98.0,
        "cover_at_most_1.15x_oracle": policy.avg_weeks_of_cover <= 1.15 * oracle.avg_weeks_of_cover,
        "cartons_at_most_1.05x_oracle": policy.cartons_ordered <= 1.05 * oracle.cartons_ordered,
        "container_fill_within_3_points_of_oracle": fill >= (oracle.avg_fill_pct or 0.0) - 3.0,
    }


def run_backtest(
    data: BacktestData,
    settings: PlanSettings,
    *,
    weeks: int = 52,
    cadence_weeks: int = 1,
    chart_count: int = 4,
    history: str = "shipments",
    policies: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> BacktestReport:
    """Replay every policy (default: all five) on the same data and compare them."""
    configured = policy_settings(settings)
    names = list(policies or configured)
    unknown = [p for p in names if p not in configured]
    if unknown:
        raise ValueError(f"unknown policies: {', '.join(unknown)}")
    runs: dict[str, Run] = {}
    for name in names:
        policy, oracle = configured[name]
        runs[name] = simulate(
            data,
            policy,
            weeks=weeks,
            cadence_weeks=cadence_weeks,
            label=name,
            history=history,
            oracle=oracle,
            progress=progress,
        )
    by_name = {name: metrics(run, data, weeks, settings.min_fill_pct) for name, run in runs.items()}
    demand = np.asarray(data.demand[:, : weeks * 7], dtype=np.int64)
    weekly_demand = demand.reshape(demand.shape[0], weeks, 7).sum(axis=2)

    def stock_of(name: str, r: int) -> list[int]:
        return runs[name].weekly_stock[r].tolist() if name in runs else []

    series = [
        StockSeries(
            product_code=data.products[r].code,
            pattern=data.patterns.get(data.products[r].code, ""),
            weekly_demand=weekly_demand[r].tolist(),
            baseline=stock_of("baseline", r),
            default=stock_of("default", r),
            oracle=stock_of("oracle", r),
        )
        for r in chart_products(data, chart_count)
    ]
    checked = (
        criteria(by_name["default"], by_name["oracle"])
        if "default" in by_name and "oracle" in by_name
        else {}
    )
    return BacktestReport(
        customer=data.name,
        start=data.start,
        weeks=weeks,
        cadence_weeks=cadence_weeks,
        history=history,
        products=len(data.products),
        active_products=sum(1 for p in data.products if p.status == "active"),
        demand_cartons=int(demand[[p.status == "active" for p in data.products]].sum()),
        policies=list(by_name.values()),
        factors=factor_effects(by_name),
        criteria=checked,
        series=series,
    )


class PolicySummary(BaseModel):
    """One policy over several seeds: the mean and the worst of each figure, and of its
    ratio to the oracle."""

    policy: str
    seeds: int
    exploded: int = Field(description="Seeds on which the policy ran away")
    mean: dict[str, float | None]
    worst: dict[str, float | None]


# figure -> whether higher is worse
_WORSE_HIGH = {
    "stockout_pct": True,
    "fill_rate_pct": False,
    "avg_weeks_of_cover": True,
    "cartons_ordered": True,
    "avg_fill_pct": False,
    "cover_vs_oracle": True,
    "cartons_vs_oracle": True,
    "stockout_pp_over_oracle": True,
    "fill_points_vs_oracle": False,
}


def relative(policy: PolicyMetrics, oracle: PolicyMetrics) -> dict[str, float | None]:
    """A policy's figures as the criteria read them: ratios and differences to the oracle."""
    fill = (
        round(policy.avg_fill_pct - oracle.avg_fill_pct, 2)
        if policy.avg_fill_pct is not None and oracle.avg_fill_pct is not None
        else None
    )
    return {
        "cover_vs_oracle": round(policy.avg_weeks_of_cover / oracle.avg_weeks_of_cover, 3)
        if oracle.avg_weeks_of_cover
        else None,
        "cartons_vs_oracle": round(policy.cartons_ordered / oracle.cartons_ordered, 3)
        if oracle.cartons_ordered
        else None,
        "stockout_pp_over_oracle": round(policy.stockout_pct - oracle.stockout_pct, 2),
        "fill_points_vs_oracle": fill,
    }


def summarize(reports: Sequence[BacktestReport]) -> list[PolicySummary]:
    """Mean and worst over the reports (seeds) of one customer, per policy."""
    if not reports:
        return []
    out = []
    for name in [p.policy for p in reports[0].policies]:
        figures: dict[str, list[float]] = {k: [] for k in _WORSE_HIGH}
        exploded = 0
        for report in reports:
            p = report.policy(name)
            if p.exploded:
                exploded += 1
                continue
            values: dict[str, float | None] = {
                "stockout_pct": p.stockout_pct,
                "fill_rate_pct": p.fill_rate_pct,
                "avg_weeks_of_cover": p.avg_weeks_of_cover,
                "cartons_ordered": p.cartons_ordered,
                "avg_fill_pct": p.avg_fill_pct,
            }
            if any(q.policy == "oracle" for q in report.policies):
                values |= relative(p, report.oracle)
            for k, v in values.items():
                if v is not None:
                    figures[k].append(float(v))
        mean = {k: round(sum(v) / len(v), 3) if v else None for k, v in figures.items()}
        worst = {
            k: (max(v) if _WORSE_HIGH[k] else min(v)) if v else None for k, v in figures.items()
        }
        out.append(
            PolicySummary(
                policy=name, seeds=len(reports), exploded=exploded, mean=mean, worst=worst
            )
        )
    return out
