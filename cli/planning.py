"""`restock plan` and `restock backtest`: the planning engine from the command line.

The engine is pure; this module does the I/O: reading the JSON input, printing JSON or a
rich table, generating demo data for the backtest and writing its chart.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from planning import PlanInput, PlanSettings, Recommendation
from planning import plan as run_plan
from planning.backtest import BacktestData, BacktestReport, run_backtest
from planning.chart import stock_chart


class HistorySource(StrEnum):
    SHIPMENTS = "shipments"
    CONSUMPTION = "consumption"


class OutputFormat(StrEnum):
    JSON = "json"
    TABLE = "table"


def _fmt(value: float | None, unit: str = "") -> str:
    return "∞" if value is None else f"{value:,.1f}{unit}"


def render_table(rec: Recommendation, console: Console) -> None:
    console.print(f"[bold]Recommendation as of {rec.as_of.isoformat()}[/bold]")
    console.print(rec.summary)
    if rec.containers:
        t = Table(title="Containers")
        for col in ("#", "cartons", "fill %", "weight kg", "volume m³", "urgent", "products"):
            t.add_column(col, justify="right" if col not in ("urgent",) else "center")
        for c in rec.containers:
            t.add_row(
                str(c.index),
                f"{c.cartons:,}",
                f"{c.fill_pct:.1f}",
                "-" if c.weight_kg is None else f"{c.weight_kg:,.0f}",
                "-" if c.volume_m3 is None else f"{c.volume_m3:,.1f}",
                "yes" if c.urgent else "",
                str(len(c.lines)),
            )
        console.print(t)
    if rec.lines:
        t = Table(title="Lines")
        for col in ("product", "name", "qty", "packs", "urgent", "forecast/wk", "method"):
            t.add_column(col)
        for col in ("cover now", "at arrival", "after", "run-out", "containers"):
            t.add_column(col)
        for ln in rec.lines:
            e = ln.explanation
            assert e is not None
            t.add_row(
                ln.product_code,
                ln.name,
                f"{ln.quantity:,}",
                f"{ln.packs:,}",
                "[red]yes[/red]" if ln.urgent else "",
                f"{e.forecast_weekly:,.1f}",
                e.method,
                _fmt(e.cover_now_weeks, "w"),
                _fmt(e.cover_at_arrival_weeks, "w"),
                _fmt(e.cover_after_order_weeks, "w"),
                e.run_out_date.isoformat() if e.run_out_date else "-",
                ",".join(map(str, ln.containers)),
            )
        console.print(t)
        for ln in rec.lines:
            if ln.explanation is not None:
                console.print(f"[bold]{ln.product_code}[/bold]: {ln.explanation.text}")
    counts: dict[str, int] = {}
    for p in rec.products:
        counts[p.status.value] = counts.get(p.status.value, 0) + 1
    console.print("Products: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    for w in rec.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")


def plan(
    input_file: Annotated[
        Path,
        typer.Argument(
            help="JSON input: as_of, settings, products, shipments, pipeline "
            "(see docs/planning.md); '-' reads stdin",
            allow_dash=True,
        ),
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="json (default) or a readable table")
    ] = OutputFormat.JSON,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout")
    ] = None,
) -> None:
    """Plan a recommendation from a JSON input and print it."""
    raw = sys.stdin.read() if str(input_file) == "-" else input_file.read_text()
    try:
        inp = PlanInput.model_validate_json(raw)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(input)"
            typer.echo(f"invalid input: {where}: {err['msg']}", err=True)
        raise typer.Exit(2) from None
    rec = run_plan(inp)
    if output_format is OutputFormat.JSON:
        text = rec.model_dump_json(indent=2)
        if output:
            output.write_text(text + "\n")
        else:
            typer.echo(text)
        return
    console = Console(record=output is not None, width=160)
    render_table(rec, console)
    if output:
        output.write_text(console.export_text())


def _metrics_table(report: BacktestReport) -> Table:
    t = Table(
        title=f"Backtest: {report.customer}, {report.weeks} weeks from {report.start.isoformat()}"
        f" ({report.active_products} active products, re-planned every "
        f"{report.cadence_weeks} week(s), history from {report.history})"
    )
    t.add_column("metric")
    t.add_column("baseline", justify="right")
    t.add_column("default", justify="right")
    rows = [
        ("stock-out product-weeks", "stockout_product_weeks", "{:,}"),
        ("stock-out % of product-weeks", "stockout_pct", "{:.2f}"),
        ("fill rate % (cartons served)", "fill_rate_pct", "{:.2f}"),
        ("average weeks of cover", "avg_weeks_of_cover", "{:.2f}"),
        ("median product cover (weeks)", "median_product_cover_weeks", "{:.2f}"),
        ("containers ordered", "containers", "{:,}"),
        ("urgent containers", "urgent_containers", "{:,}"),
        ("average container fill %", "avg_fill_pct", "{:.1f}"),
        ("cartons ordered", "cartons_ordered", "{:,}"),
    ]
    for label, attr, fmt in rows:
        values = [getattr(m, attr) for m in (report.baseline, report.default)]
        t.add_row(label, *("-" if v is None else fmt.format(v) for v in values))
    return t


def backtest(
    customer: Annotated[
        str, typer.Option(help="Demo customer code (K-10040 small, K-20400 medium, K-34000 large)")
    ] = "K-20400",
    seed: Annotated[int, typer.Option(help="Generator seed")] = 7,
    start: Annotated[
        str, typer.Option(help="First simulated day (ISO date); history ends the day before")
    ] = "2026-01-05",
    weeks: Annotated[int, typer.Option(min=1, max=104)] = 52,
    cadence_weeks: Annotated[
        int | None,
        typer.Option(help="Weeks between plans; default: the customer's review cadence"),
    ] = None,
    history: Annotated[
        HistorySource,
        typer.Option(
            help="shipments: forecast from ERP delivery lines incl. our own orders (as in "
            "production); consumption: from what the customer consumed"
        ),
    ] = HistorySource.SHIPMENTS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    chart_dir: Annotated[
        Path, typer.Option(help="Where the stock-over-time SVG is written")
    ] = Path("var/backtest"),
) -> None:
    """Replay a demo customer for N weeks: baseline vs default policy, with a chart."""
    from erp.simulator.generator import demo_spec, generate_customer

    try:
        spec = demo_spec(customer)
    except KeyError:
        typer.echo(f"unknown demo customer {customer!r}", err=True)
        raise typer.Exit(2) from None
    first_day = date.fromisoformat(start)
    generated = generate_customer(spec, seed=seed, today=first_day)
    cadence = cadence_weeks or max(spec.review_days // 7, 1)
    settings = PlanSettings(
        lead_time_weeks=generated.profile.lead_time_weeks,
        container_capacity_cartons=generated.profile.container_capacity_cartons,
        review_period_weeks=cadence,
    )
    history_days = settings.history_weeks * 7
    data = BacktestData(
        start=first_day,
        products=generated.products,
        shipments=generated.shipments,
        pipeline=generated.orders,
        demand=generated.demand(first_day, weeks * 7),
        patterns=generated.patterns,
        name=f"{spec.name} ({spec.code}, seed {seed})",
        past_demand=(
            generated.demand(first_day - timedelta(days=history_days), history_days)
            if history is HistorySource.CONSUMPTION
            else None
        ),
    )
    report = run_backtest(data, settings, weeks=weeks, cadence_weeks=cadence, history=history.value)
    chart_dir.mkdir(parents=True, exist_ok=True)
    chart = chart_dir / f"backtest-{spec.code}-seed{seed}-{history.value}.svg"
    chart.write_text(stock_chart(report))
    if as_json:
        payload = report.model_dump(mode="json", exclude={"series"})
        payload["chart"] = str(chart)
        typer.echo(json.dumps(payload, indent=2))
        return
    console = Console(width=120)
    console.print(_metrics_table(report))
    console.print(f"True demand of active products: {report.demand_cartons:,} cartons")
    console.print(f"Chart: {chart}")
