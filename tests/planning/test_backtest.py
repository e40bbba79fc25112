"""The backtest simulation on hand-checkable data, the SVG chart, and the CLI command."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from cli.main import app
from planning.backtest import BacktestData, run_backtest, simulate
from planning.chart import stock_chart
from planning.settings import PlanSettings
from tests.planning.factories import product

START = date(2026, 1, 5)
SETTINGS = PlanSettings(lead_time_weeks=2, container_capacity_cartons=5000, min_fill_pct=0)


def _data(stock: int, weeks: int = 10) -> BacktestData:
    n = 3
    return BacktestData(
        start=START,
        products=[product(f"P{i}", stock_on_hand=stock) for i in range(n)],
        shipments=[],
        pipeline=[],
        demand=np.full((n, weeks * 7), 10),
        past_demand=np.full((n, SETTINGS.history_weeks * 7), 10),
        patterns={"P0": "smooth"},
        name="steady",
    )


def test_empty_start_stocks_out_exactly_until_the_first_order_lands() -> None:
    # No stock, 10/day each: the first order (placed day 0) arrives on day 14, so weeks 0
    # and 1 stock out for all 3 products (6 product-weeks) and nothing after: the order
    # covers 8 + 2 weeks and weekly re-plans keep it topped up.
    run = simulate(
        _data(stock=0), SETTINGS, weeks=10, cadence_weeks=1, label="x", history="consumption"
    )
    m = run.metrics
    assert m.stockout_product_weeks == 6
    assert m.fill_rate_pct == 80.0  # 2 of 10 weeks lost
    assert m.containers >= 1 and m.avg_fill_pct is not None and 0 < m.avg_fill_pct <= 100
    assert run.weekly_stock[:, 0].tolist() == [0, 0, 0]
    assert (run.weekly_stock[:, 2:] > 0).all()


def test_ample_stock_never_stocks_out_and_report_compares_both_policies() -> None:
    report = run_backtest(_data(stock=2000), SETTINGS, weeks=10, history="consumption")
    assert report.baseline.policy == "baseline" and report.default.policy == "default"
    for m in (report.baseline, report.default):
        assert m.stockout_product_weeks == 0 and m.fill_rate_pct == 100.0
    assert report.demand_cartons == 3 * 70 * 10
    assert report.series and len(report.series[0].default) == 10
    svg = stock_chart(report)
    assert svg.startswith("<svg") and svg.count("<polyline") == 3 * len(report.series)


def test_shipments_history_grows_with_our_own_orders() -> None:
    # With no shipment history at all, nothing is forecast and nothing is ordered.
    run = simulate(_data(stock=100), SETTINGS, weeks=4, cadence_weeks=1, label="x")
    assert run.metrics.cartons_ordered == 0
    assert run.metrics.stockout_product_weeks > 0


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
    assert {"stockout_product_weeks", "avg_weeks_of_cover", "containers", "avg_fill_pct"} <= set(
        report["default"]
    )
    chart = Path(report["chart"])
    assert chart.parent == tmp_path and chart.read_text().startswith("<svg")
