"""`restock plan` and `restock backtest`: the planning engine from the command line.

The engine is pure; this module does the I/O: reading the JSON input, printing JSON or a
rich table, generating demo data for the backtest and writing its chart.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from core.errors import InvalidInput
from erp.simulator.generator import Lateness, demo_spec, generate_customer
from planning import PlanInput, PlanSettings, Recommendation
from planning import plan as run_plan
from planning.backtest import BacktestData, BacktestReport, PolicySummary, run_backtest, summarize
from planning.chart import stock_chart


class HistorySource(StrEnum):
    SHIPMENTS = "shipments"
    ERP_ACTIVITY = "erp_activity"
    SHIPMENTS_ONLY = "shipments_only"


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
    try:
        raw = sys.stdin.read() if str(input_file) == "-" else input_file.read_text()
    except FileNotFoundError:
        typer.echo(f"error: input file {input_file} does not exist", err=True)
        raise typer.Exit(2) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {input_file}: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        inp = PlanInput.model_validate_json(raw)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(input)"
            typer.echo(f"invalid input: {where}: {err['msg']}", err=True)
        raise typer.Exit(2) from None
    try:
        rec = run_plan(inp)
    except InvalidInput as exc:
        typer.echo(f"invalid input: {exc.field or '(input)'}: {exc}", err=True)
        raise typer.Exit(2) from None
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


_ROWS = [
    ("stock-out product-weeks", "stockout_product_weeks", "{:,}"),
    ("stock-out % of product-weeks", "stockout_pct", "{:.2f}"),
    ("fill rate % (cartons served)", "fill_rate_pct", "{:.2f}"),
    ("average weeks of cover", "avg_weeks_of_cover", "{:.2f}"),
    ("median product cover (weeks)", "median_product_cover_weeks", "{:.2f}"),
    ("containers ordered", "containers", "{:,}"),
    ("urgent containers", "urgent_containers", "{:,}"),
    ("containers below min fill", "below_min_fill_containers", "{:,}"),
    ("average container fill %", "avg_fill_pct", "{:.1f}"),
    ("cartons ordered", "cartons_ordered", "{:,}"),
    ("cartons received in the run", "cartons_received", "{:,}"),
    ("seconds", "seconds", "{:.1f}"),
]


def _metrics_table(report: BacktestReport) -> Table:
    t = Table(
        title=f"Backtest: {report.customer}, {report.weeks} weeks from {report.start.isoformat()}"
        f" ({report.active_products} active products, re-planned every "
        f"{report.cadence_weeks} week(s), history from {report.history})"
    )
    t.add_column("metric")
    for p in report.policies:
        t.add_column(p.policy, justify="right")
    for label, attr, fmt in _ROWS:
        cells = []
        for p in report.policies:
            value = getattr(p, attr)
            if p.exploded and attr not in ("seconds",):
                cells.append(f"exploded (week {p.exploded_week})")
            else:
                cells.append("-" if value is None else fmt.format(value))
        t.add_row(label, *cells)
    return t


def _factors_table(report: BacktestReport) -> Table:
    t = Table(title="Each factor on its own (changed minus reference)")
    for col in (
        "factor",
        "held",
        "stock-out pp",
        "fill rate pp",
        "cover weeks",
        "cartons",
        "fill pts",
    ):
        t.add_column(col, justify="left" if col in ("factor", "held") else "right")
    for f in report.factors:
        t.add_row(
            f.factor,
            f.held,
            f"{f.stockout_pct:+.2f}",
            f"{f.fill_rate_pct:+.2f}",
            f"{f.avg_weeks_of_cover:+.2f}",
            f"{f.cartons_ordered:+,}",
            "-" if f.avg_fill_pct is None else f"{f.avg_fill_pct:+.1f}",
        )
    return t


_SUMMARY = [
    ("stock-out %", "stockout_pct", "{:.2f}"),
    ("fill rate %", "fill_rate_pct", "{:.2f}"),
    ("weeks of cover", "avg_weeks_of_cover", "{:.2f}"),
    ("cover / oracle", "cover_vs_oracle", "{:.3f}"),
    ("cartons / oracle", "cartons_vs_oracle", "{:.3f}"),
    ("stock-out pp over oracle", "stockout_pp_over_oracle", "{:+.2f}"),
    ("container fill %", "avg_fill_pct", "{:.1f}"),
    ("fill pts vs oracle", "fill_points_vs_oracle", "{:+.1f}"),
]


def _summary_table(customer: str, seeds: list[int], summary: list[PolicySummary]) -> Table:
    t = Table(title=f"{customer}: seeds {', '.join(map(str, seeds))}: mean / worst")
    t.add_column("figure")
    for p in summary:
        t.add_column(
            p.policy + (f" ({p.exploded} exploded)" if p.exploded else ""), justify="right"
        )
    for label, key, fmt in _SUMMARY:
        row = []
        for p in summary:
            mean, worst = p.mean.get(key), p.worst.get(key)
            row.append(
                "-"
                if mean is None or worst is None
                else f"{fmt.format(mean)} / {fmt.format(worst)}"
            )
        t.add_row(label, *row)
    return t


def _seeds(value: str) -> list[int]:
    try:
        seeds = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"seeds must be integers separated by commas, not {value!r}"
        ) from None
    if not seeds:
        raise typer.BadParameter("give at least one seed")
    return seeds


def _slips(lateness: Lateness, seed: int, code: str) -> Callable[[int], int]:
    """The replay's n-th order's delay, drawn as the simulator draws a live order's."""

    def slip(k: int) -> int:
        return lateness.delay_days(seed, code, 1_000_000 + k)

    return slip


def backtest(
    customer: Annotated[
        str, typer.Option(help="Demo customer code (K-10040 small, K-20400 medium, K-34000 large)")
    ] = "K-20400",
    seed: Annotated[int, typer.Option(help="Generator seed")] = 7,
    seeds: Annotated[
        str | None,
        typer.Option(help="Several seeds, e.g. 7,8,9: each is run, then mean and worst"),
    ] = None,
    start: Annotated[
        str, typer.Option(help="First simulated day (ISO date); history ends the day before")
    ] = "2026-01-05",
    weeks: Annotated[int, typer.Option(min=1, max=104)] = 52,
    cadence_weeks: Annotated[
        int | None,
        typer.Option(min=1, max=26, help="Weeks between plans; default: the customer's cadence"),
    ] = None,
    history: Annotated[
        HistorySource,
        typer.Option(
            help="shipments: ERP shipments (our orders included) plus our stock snapshot at "
            "each review, as production sees them; erp_activity: the ERP reports weekly "
            "consumption (EDI 852); shipments_only: no snapshots (the closed loop)"
        ),
    ] = HistorySource.SHIPMENTS,
    late_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of deliveries that arrive late")
    ] = 0.15,
    late_days: Annotated[
        float, typer.Option(min=0.0, max=60.0, help="Mean delay of a late delivery, in days")
    ] = 6.0,
    policies: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated subset of oracle,default,baseline,forecast_only,"
            "containers_only (default: all)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress lines on stderr")] = False,
    chart_dir: Annotated[
        Path, typer.Option(help="Where the stock-over-time SVG is written")
    ] = Path("var/backtest"),
) -> None:
    """Replay a demo customer for N weeks: every policy against the oracle, with a chart."""
    try:
        spec = demo_spec(customer)
    except KeyError:
        typer.echo(f"unknown demo customer {customer!r}", err=True)
        raise typer.Exit(2) from None
    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        typer.echo(f"--start must be an ISO date (YYYY-MM-DD), not {start!r}", err=True)
        raise typer.Exit(2) from None
    if late_share > 0 and late_days <= 0:
        typer.echo("--late-days must be positive when --late-share is", err=True)
        raise typer.Exit(2)
    spec = replace(spec, late_share=late_share, late_days=late_days if late_share else 0.0)
    seed_list = _seeds(seeds) if seeds else [seed]
    chosen = [p.strip() for p in policies.split(",")] if policies else None
    cadence = cadence_weeks or max(spec.review_days // 7, 1)

    def progress(message: str) -> None:
        if not quiet:
            typer.echo(f"[{spec.code}] {message}", err=True)

    reports: list[BacktestReport] = []
    charts: list[str] = []
    for s in seed_list:
        generated = generate_customer(spec, seed=s, today=first_day)
        settings = PlanSettings(
            last_container="auto",  # the recommended policy; PlanSettings defaults to top_up
            lead_time_weeks=generated.profile.lead_time_weeks,
            container_capacity_cartons=generated.profile.container_capacity_cartons,
            review_period_weeks=cadence,
        )
        history_days = settings.history_weeks * 7
        slips = _slips(generated.process.lateness, s, spec.code)
        data = BacktestData(
            start=first_day,
            products=generated.products,
            shipments=generated.shipments,
            pipeline=generated.orders,
            # The oracle looks a horizon beyond the last week.
            demand=generated.demand(first_day, (weeks + 60) * 7),
            patterns=generated.patterns,
            name=f"{spec.name} ({spec.code}, seed {s})",
            past_demand=(
                generated.demand(first_day - timedelta(days=history_days), history_days)
                if history is HistorySource.ERP_ACTIVITY
                else None
            ),
            lead_time_weeks=generated.profile.lead_time_weeks,
            slip_days=slips,
        )
        progress(f"seed {s}: generated {len(generated.products):,} products")

        def seed_progress(message: str, s: int = s) -> None:
            progress(f"seed {s} {message}")

        try:
            report = run_backtest(
                data,
                settings,
                weeks=weeks,
                cadence_weeks=cadence,
                history=history.value,
                policies=chosen,
                progress=seed_progress,
            )
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        reports.append(report)
        chart_dir.mkdir(parents=True, exist_ok=True)
        chart_file = chart_dir / f"backtest-{spec.code}-seed{s}-{history.value}.svg"
        chart_file.write_text(stock_chart(report))
        charts.append(str(chart_file))
    summary = summarize(reports) if len(reports) > 1 else []
    if as_json:
        payload: dict[str, object]
        if len(reports) == 1:
            payload = reports[0].model_dump(mode="json", exclude={"series"})
            payload["chart"] = charts[0]
        else:
            payload = {
                "customer": spec.code,
                "seeds": seed_list,
                "reports": [r.model_dump(mode="json", exclude={"series"}) for r in reports],
                "summary": [p.model_dump(mode="json") for p in summary],
                "charts": charts,
            }
        typer.echo(json.dumps(payload, indent=2))
        return
    console = Console(width=160)
    for report, chart in zip(reports, charts, strict=True):
        console.print(_metrics_table(report))
        if report.factors:
            console.print(_factors_table(report))
        if report.criteria:
            failed = [k for k, ok in report.criteria.items() if not ok]
            console.print(
                "Default against the oracle: "
                + ("every criterion met" if not failed else "not met: " + ", ".join(failed))
            )
        console.print(f"True demand of active products: {report.demand_cartons:,} cartons")
        console.print(f"Chart: {chart}")
    if summary:
        console.print(_summary_table(spec.code, seed_list, summary))
