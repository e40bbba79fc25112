"""The backtest replay on hand-checkable data, its policies and report, the chart, the CLI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from cli.main import app
from planning.backtest import (
    BacktestReport,
    PolicyMetrics,
    baseline_settings,
    criteria,
    run_backtest,
    summarize,
)
from planning.chart import stock_chart
from planning.models import ErpOrder, OrderLine, OrderStatus
from planning.replay import BacktestData, simulate
from planning.settings import PlanSettings
from tests.planning.factories import product

START = date(2026, 1, 5)
SETTINGS = PlanSettings(
    last_container="auto",
    lead_time_weeks=2,
    container_capacity_cartons=5000,
    min_fill_pct=0,
    safety_stock_mode="weeks",
)


def _data(stock: int, weeks: int = 10, **kw: object) -> BacktestData:
    n = 3
    values: dict[str, object] = {
        "start": START,
        "products": [product(f"P{i}", stock_on_hand=stock) for i in range(n)],
        "shipments": [],
        "pipeline": [],
        "demand": np.full((n, weeks * 7), 10),
        "past_demand": np.full((n, SETTINGS.history_weeks * 7), 10),
        "patterns": {"P0": "smooth"},
        "name": "steady",
    }
    return BacktestData(**(values | kw))  # type: ignore[arg-type]


def test_empty_start_stocks_out_exactly_until_the_first_order_lands() -> None:
    # No stock, 10/day each, the ERP reporting consumption: the first order (placed day 0)
    # arrives on day 14, so weeks 0 and 1 stock out for all 3 products (6 product-weeks)
    # and nothing after: the order covers 8 + 2 weeks and weekly re-plans keep it up.
    run = simulate(
        _data(stock=0), SETTINGS, weeks=10, cadence_weeks=1, label="x", history="erp_activity"
    )
    assert int(run.stockout.sum()) == 6
    assert run.served == pytest.approx(0.8 * 3 * 70 * 10)  # 2 of 10 weeks lost
    assert run.containers >= 1 and run.fills and all(0 < f <= 100 for f in run.fills)
    assert run.weekly_stock[:, 0].tolist() == [0, 0, 0]
    assert (run.weekly_stock[:, 2:] > 0).all()
    assert run.exploded_week is None


def test_ample_stock_never_stocks_out_and_the_report_compares_every_policy() -> None:
    report = run_backtest(_data(stock=2000), SETTINGS, weeks=10, history="erp_activity")
    names = [p.policy for p in report.policies]
    assert names == ["oracle", "default", "baseline", "forecast_only", "containers_only"]
    for m in report.policies:
        assert m.stockout_product_weeks == 0 and m.fill_rate_pct == 100.0
    assert report.demand_cartons == 3 * 70 * 10
    assert report.series and len(report.series[0].default) == 10
    assert len(report.series[0].oracle) == 10
    assert {f.factor for f in report.factors} == {"forecast", "last container"}
    assert report.criteria and all(report.criteria.values())
    svg = stock_chart(report)
    assert svg.startswith("<svg") and svg.count("<polyline") == 4 * len(report.series)


def test_without_snapshots_or_history_nothing_is_forecast() -> None:
    # No shipment history and no snapshots (the closed loop without a consumption signal):
    # nothing is forecast, nothing ordered, and the products run dry.
    run = simulate(
        _data(stock=100), SETTINGS, weeks=4, cadence_weeks=1, label="x", history="shipments_only"
    )
    assert run.cartons == 0 and run.stockout.sum() > 0


def test_snapshots_give_a_history_as_the_replay_goes() -> None:
    # The same start, but Restock's stock snapshot at each review: after two reviews the
    # consumption between them (10/day) is history, and orders follow.
    keep = SETTINGS.model_copy(update={"last_container": "keep"})
    run = simulate(_data(stock=300), keep, weeks=6, cadence_weeks=1, label="x")
    assert run.cartons > 0
    assert run.weekly_stock[:, -1].min() > 0


def test_every_container_below_the_minimum_fill_is_counted() -> None:
    # 30 cartons a day in all against 5,000-carton containers: a week's top-up orders far
    # less than a container, so the replay sends containers below a 90% minimum.
    keep = SETTINGS.model_copy(update={"last_container": "keep", "min_fill_pct": 90})
    run = simulate(
        _data(stock=300, weeks=12),
        keep,
        weeks=12,
        cadence_weeks=1,
        label="x",
        history="erp_activity",
    )
    below = sum(1 for fill in run.fills if fill < 90)
    assert below > 0 and len(run.fills) == run.containers
    assert run.below_min_fill == below


def test_the_oracle_is_fed_the_true_demand() -> None:
    # Demand steps from 10/day to 30/day in week 5: the oracle orders for it in time.
    data = _data(stock=700, weeks=12)
    demand = np.asarray(data.demand).copy()
    demand[:, 35:] = 30
    stepped = BacktestData(**{**data.__dict__, "demand": demand})
    oracle = simulate(
        stepped, SETTINGS, weeks=12, cadence_weeks=1, label="o", oracle=True, history="erp_activity"
    )
    default = simulate(
        stepped, SETTINGS, weeks=12, cadence_weeks=1, label="d", history="erp_activity"
    )
    assert oracle.stockout.sum() == 0
    assert default.stockout.sum() > 0


def test_late_deliveries_lengthen_the_measured_lead_time() -> None:
    # Every order of the replay arrives 7 days after its ETA: the plans see a longer lead
    # time and order earlier, and the replay still never runs dry.
    history = [
        ErpOrder(
            order_number=f"H{k}",
            status=OrderStatus.DELIVERED,
            ordered_on=START - timedelta(weeks=20 - k),
            eta=START - timedelta(weeks=18 - k),
            delivered_on=START - timedelta(weeks=18 - k) + timedelta(days=7),
            lines=[OrderLine(product_code="P0", quantity=1)],
        )
        for k in range(6)
    ]
    data = _data(stock=600, weeks=12, pipeline=history, slip_days=lambda k: 7)
    run = simulate(data, SETTINGS, weeks=12, cadence_weeks=1, label="x", history="erp_activity")
    assert run.stockout.sum() == 0


def test_a_runaway_policy_is_reported_as_exploded() -> None:
    # Targets of 100 weeks in a 10-week run order ten times the run's demand: stopped.
    greedy = SETTINGS.model_copy(update={"target_soh_weeks": 100.0, "max_cover_weeks": 104.0})
    run = simulate(
        _data(stock=0), greedy, weeks=10, cadence_weeks=1, label="x", history="erp_activity"
    )
    assert run.exploded_week == 0
    # One carton per container: a plan of thousands of containers is refused, not packed.
    tiny = SETTINGS.model_copy(update={"container_capacity_cartons": 1})
    run = simulate(
        _data(stock=0), tiny, weeks=4, cadence_weeks=1, label="x", history="erp_activity"
    )
    assert run.exploded_week == 0 and run.cartons == 0


def test_baseline_settings_are_validated() -> None:
    broken = PlanSettings.model_construct(**{**SETTINGS.model_dump(), "target_soh_weeks": -1})
    with pytest.raises(ValidationError) as exc:
        baseline_settings(broken)
    assert exc.value.errors()[0]["loc"] == ("target_soh_weeks",)
    base = baseline_settings(SETTINGS)
    assert base.forecast_method == "trailing_average" and base.last_container == "keep"
    assert base.safety_stock_mode == SETTINGS.safety_stock_mode  # one factor at a time


def _metrics(policy: str, **kw: float) -> PolicyMetrics:
    values: dict[str, object] = {
        "policy": policy,
        "stockout_product_weeks": 10,
        "stockout_pct": 1.0,
        "fill_rate_pct": 99.0,
        "avg_weeks_of_cover": 10.0,
        "median_product_cover_weeks": 10.0,
        "containers": 10,
        "urgent_containers": 0,
        "avg_fill_pct": 95.0,
        "cartons_ordered": 1000,
    }
    values.update(kw)
    return PolicyMetrics.model_validate(values)


def test_criteria_against_the_oracle() -> None:
    oracle = _metrics("oracle")
    good = _metrics("default", stockout_pct=1.9, avg_weeks_of_cover=11.4, cartons_ordered=1049)
    assert all(criteria(good, oracle).values())
    bad = _metrics("default", stockout_pct=2.1, avg_weeks_of_cover=11.6, avg_fill_pct=91.9)
    failed = {k for k, ok in criteria(bad, oracle).items() if not ok}
    assert failed == {
        "stockout_within_oracle_plus_1pp",
        "stockout_at_most_2pct",
        "cover_at_most_1.15x_oracle",
        "container_fill_within_3_points_of_oracle",
    }
    assert criteria(_metrics("default", exploded_week=3), oracle) == {"not_exploded": False}


def test_several_seeds_give_mean_and_worst() -> None:
    def report(cover: float, fill: float) -> BacktestReport:
        return BacktestReport(
            customer="c",
            start=START,
            weeks=52,
            cadence_weeks=1,
            history="shipments",
            products=1,
            active_products=1,
            demand_cartons=1,
            policies=[
                _metrics("oracle"),
                _metrics("default", avg_weeks_of_cover=cover, fill_rate_pct=fill),
            ],
            series=[],
        )

    summary = {p.policy: p for p in summarize([report(11.0, 98.0), report(12.0, 99.0)])}
    default = summary["default"]
    assert default.mean["avg_weeks_of_cover"] == 11.5 and default.worst["avg_weeks_of_cover"] == 12
    assert default.worst["fill_rate_pct"] == 98.0  # lower is worse
    assert default.mean["cover_vs_oracle"] == 1.15 and default.worst["cover_vs_oracle"] == 1.2


def test_cli_backtest_json_and_chart(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--customer",
            "K-10040",
            "--weeks",
            "8",
            "--json",
            "--chart-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["weeks"] == 8 and report["history"] == "shipments"
    policies = {p["policy"]: p for p in report["policies"]}
    assert {"oracle", "default", "baseline"} <= set(policies)
    assert {"stockout_product_weeks", "avg_weeks_of_cover", "containers", "avg_fill_pct"} <= set(
        policies["default"]
    )
    chart = Path(report["chart"])
    assert chart.parent == tmp_path and chart.read_text().startswith("<svg")
    assert "oracle: week 0/8" in result.stderr  # progress goes to stderr


def test_cli_backtest_several_seeds(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--customer",
            "K-10040",
            "--weeks",
            "4",
            "--seeds",
            "7,8",
            "--policies",
            "oracle,default",
            "--json",
            "--quiet",
            "--chart-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["seeds"] == [7, 8] and len(payload["reports"]) == 2
    assert [p["policy"] for p in payload["summary"]] == ["oracle", "default"]
    assert not result.stderr


def test_cli_backtest_rejects_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["backtest", "--seeds", "7,x", "--chart-dir", str(tmp_path)])
    assert result.exit_code == 2 and "seeds must be integers" in result.output
    result = runner.invoke(app, ["backtest", "--policies", "magic", "--chart-dir", str(tmp_path)])
    assert result.exit_code == 2 and "unknown policies: magic" in result.output
