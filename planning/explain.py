"""Turn the engine's arrays into the `Recommendation`: lines with reasons, per-product
health, containers, totals and a one-sentence summary a buyer can read.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from planning.classify import PATTERNS
from planning.forecast import METHOD_NAMES, NO_FORECAST, SHORT_MEAN
from planning.history import FloatArray, IntArray
from planning.packing import effective_moq, to_containers
from planning.projection import forward_cover
from planning.schemas import (
    Container,
    DemandPattern,
    Explanation,
    Line,
    PlanStatus,
    ProductPlan,
    Recommendation,
    Totals,
    construct,
)
from planning.settings import SafetyStockMode

if TYPE_CHECKING:
    from planning.engine import PlanResult

SHOWN_WEEKS = 13

# Product statuses in the order their rules are checked (`_statuses`).
STATUSES: tuple[PlanStatus, ...] = (
    PlanStatus.DISCONTINUED,
    PlanStatus.STOCK_UNKNOWN,
    PlanStatus.NO_HISTORY,
    PlanStatus.AT_RISK,
    PlanStatus.REORDER,
    PlanStatus.HEALTHY,
)

METHOD_LABELS = {
    "trailing_average": "trailing average",
    "ses": "exponential smoothing",
    "seasonal": "seasonal index",
    "croston_sba": "Croston-SBA (intermittent)",
    "tsb": "TSB (intermittent)",
    "short_history_mean": "average since first shipment (short history)",
    "none": "no forecast",
}


def _cover_list(cover: np.ndarray) -> list[float | None]:
    """Weeks of cover rounded to 0.1, with None for unbounded (no consumption)."""
    finite = np.isfinite(cover)
    values = np.round(np.where(finite, cover, 0.0), 1).tolist()
    return [v if ok else None for v, ok in zip(values, finite.tolist(), strict=True)]


def _fmt_weeks(value: float | None) -> str:
    return "unlimited" if value is None else f"{value:.1f} weeks"


def _dates(as_of: date, days: FloatArray) -> list[date | None]:
    """`as_of` + floor(days) per product; None where days is NaN (no run-out in the horizon)."""
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(days)
    out[ok] = np.datetime64(as_of, "D") + np.floor(days[ok]).astype(np.int64)
    return list(out.tolist())


def _labels(labels: tuple[Any, ...], codes: IntArray) -> list[Any]:
    """Code array -> list of the labels (enums, names) the codes stand for."""
    return list(np.array(labels, dtype=object)[codes].tolist())


def _records(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Column lists -> one dict per row, keys in the columns' order."""
    keys = tuple(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _statuses(result: PlanResult) -> IntArray:
    """Each product's index into STATUSES: the first rule that applies, in STATUSES order."""
    method = result.forecast.method
    rules = [
        ~result.catalog.active,
        result.skipped,
        method == NO_FORECAST,
        result.urgent,
        result.base_order > 0,
    ]
    return np.asarray(np.select(rules, range(len(rules)), default=len(rules)), dtype=np.int64)


@dataclass(frozen=True)
class _Shown:
    """Per-product values that both product plans and lines show, converted once."""

    rate: FloatArray  # weekly forecast, rounded to 0.1
    pipeline: IntArray
    cover_now: list[float | None]
    cover_arrival: list[float | None]
    run_out: list[date | None]
    pattern: list[DemandPattern]
    method: list[str]

    @classmethod
    def of(cls, result: PlanResult) -> _Shown:
        lead = result.settings.lead_time_weeks
        fc = result.forecast.weekly
        tg = result.targets
        window = np.maximum(np.ceil(lead + tg.target_weeks).astype(np.int64), 1)
        csum = np.cumsum(fc, axis=1)
        n = len(result.catalog)
        rows = np.arange(n)
        rate = csum[rows, np.minimum(window, fc.shape[1]) - 1] / window if n else np.zeros(0)
        pipeline = result.arrivals.sum(axis=1)
        return cls(
            rate=np.round(rate, 1),
            pipeline=np.round(pipeline).astype(np.int64),
            cover_now=_cover_list(forward_cover(result.stock_used + pipeline, fc, 0)),
            cover_arrival=_cover_list(forward_cover(tg.stock_at_arrival, fc, lead)),
            run_out=_dates(result.as_of, result.projection.run_out_day),
            pattern=_labels(PATTERNS, result.classes.pattern),
            method=_labels(METHOD_NAMES, result.forecast.method),
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off CPython's cyclic garbage collector for a burst of allocations.

    A 10,000-product recommendation is ~150,000 new dicts, lists and models, none in a
    reference cycle, so the collector has nothing to find in them; left on, they trigger
    full collections over the whole heap that cost as much as building them (~0.3 s).
    Turned back on only if it was on, so concurrent or nested use never leaves it off.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def build_recommendation(result: PlanResult) -> Recommendation:
    with _gc_paused():
        return _build(result)


def _build(result: PlanResult) -> Recommendation:
    """Models are built with `construct`: every value here already has its field's type."""
    shown = _Shown.of(result)
    status = _statuses(result)
    containers = to_containers(result.boxes)
    lines = _lines(result, shown, containers)
    totals = _totals(result, status, lines, containers)
    return construct(
        Recommendation,
        {
            "as_of": result.as_of,
            "summary": _summary(result, status, totals),
            "containers": containers,
            "lines": lines,
            "products": _product_plans(result, shown, status),
            "totals": totals,
            "warnings": list(result.warnings),
            "settings": result.settings,
        },
    )


def _product_plans(result: PlanResult, shown: _Shown, status: IntArray) -> list[ProductPlan]:
    cat = result.catalog
    notes: list[str | None] = [None] * len(cat)
    noted = (
        (status == STATUSES.index(PlanStatus.NO_HISTORY))
        | (status == STATUSES.index(PlanStatus.STOCK_UNKNOWN))
        | (result.deferred > 0)
        | (result.forecast.method == SHORT_MEAN)
    )
    for i in np.flatnonzero(noted).tolist():
        notes[i] = _note(result, i, STATUSES[int(status[i])], int(result.deferred[i]))
    columns = {
        "product_code": cat.codes,
        "name": cat.names,
        "status": _labels(STATUSES, status),
        "pattern": shown.pattern,
        "method": shown.method,
        "weekly_forecast": shown.rate.tolist(),
        "forecast": np.round(result.forecast.weekly[:, :SHOWN_WEEKS], 1).tolist(),
        "stock_on_hand": cat.reported_stock,
        "pipeline": shown.pipeline.tolist(),
        "weeks_of_cover": shown.cover_now,
        "cover_at_arrival_weeks": shown.cover_arrival,
        "run_out_date": shown.run_out,
        "projected_stock": _ints(result.projection.start_stock[:, :SHOWN_WEEKS]),
        "ordered_quantity": result.order.tolist(),
        "urgent": (result.urgent & (result.order > 0)).tolist(),
        "note": notes,
    }
    return [construct(ProductPlan, values) for values in _records(columns)]


_LINE_FIELDS_SET = frozenset(Line.model_fields) - {"edited"}


def _lines(result: PlanResult, shown: _Shown, containers: list[Container]) -> list[Line]:
    """A line per ordered product with its explanation; urgent first, then by container."""
    cat, tg, s = result.catalog, result.targets, result.settings
    picked = np.flatnonzero(result.order > 0)
    rows = picked.tolist()
    count = len(rows)

    def pick(values: list[Any]) -> list[Any]:
        return [values[i] for i in rows]

    in_containers: dict[str, list[int]] = {}
    for c in containers:
        for cl in c.lines:
            in_containers.setdefault(cl.product_code, []).append(c.index)
    codes = pick(cat.codes)
    quantity = result.order[picked]
    cover_after = forward_cover(
        tg.stock_at_arrival + result.order, result.forecast.weekly, s.lead_time_weeks
    )
    explanations = _records(
        {
            "forecast_weekly": shown.rate[picked].tolist(),
            "method": pick(shown.method),
            "pattern": pick(shown.pattern),
            "history_weeks": result.history.history_weeks[picked].tolist(),
            "stock_on_hand": pick(cat.reported_stock),
            "stock_used": _ints(result.stock_used[picked]),
            "pipeline": shown.pipeline[picked].tolist(),
            "cover_now_weeks": pick(shown.cover_now),
            "stock_at_arrival": _ints(tg.stock_at_arrival[picked]),
            "cover_at_arrival_weeks": pick(shown.cover_arrival),
            "run_out_date": pick(shown.run_out),
            "arrival_date": [result.as_of + timedelta(weeks=s.lead_time_weeks)] * count,
            "target_weeks": tg.target_weeks[picked].tolist(),
            "target_cartons": _ints(tg.target[picked]),
            "safety_stock_cartons": _ints(tg.safety[picked]),
            "safety_stock_rule": [_safety_rule(result)] * count,
            "need_cartons": np.ceil(np.maximum(result.need[picked], 0) - 1e-9)
            .astype(np.int64)
            .tolist(),
            "rounding": [None] * count,
            "pull_forward_cartons": result.pulled[picked].tolist(),
            "cover_after_order_weeks": _cover_list(cover_after[picked]),
            "warnings": [[] for _ in rows],
        }
    )
    lines = _records(
        {
            "product_code": codes,
            "name": pick(cat.names),
            "quantity": quantity.tolist(),
            "packs": (quantity // cat.pack[picked]).tolist(),
            "pack_size": cat.pack[picked].tolist(),
            "moq": cat.moq[picked].tolist(),
            "urgent": result.urgent[picked].tolist(),
            "urgency_reason": [None] * count,
            "containers": [in_containers.get(code, []) for code in codes],
            "carton_weight_kg": pick(cat.weight),
            "carton_volume_m3": pick(cat.volume),
            "edited": [False] * count,
            "explanation": explanations,
        }
    )
    u = result.urgency
    context = zip(
        result.base_order[picked].tolist(),
        result.stock_missing[picked].tolist(),
        result.stock_negative[picked].tolist(),
        u.runs_out[picked].tolist(),
        u.first_week[picked].tolist(),
        strict=True,
    )
    for line, (base, missing, negative, runs_out, breach) in zip(lines, context, strict=True):
        e = line["explanation"]
        warnings: list[str] = e["warnings"]
        if missing:
            warnings.append("stock on hand missing from the ERP; planned as 0 - check it")
        if negative:
            warnings.append(f"ERP reported negative stock ({e['stock_on_hand']:,}); planned as 0")
        if e["method"] == "short_history_mean":
            warnings.append(f"only {e['history_weeks']} weeks of history; forecast is provisional")
        if line["urgent"]:
            line["urgency_reason"] = _urgency_reason(
                result.as_of,
                e["arrival_date"],
                runs_out,
                e["run_out_date"],
                breach,
                e["safety_stock_cartons"],
            )
        e["rounding"] = _rounding(e["need_cartons"], base, line["pack_size"], line["moq"])
        e["text"] = _text(e, line["quantity"], s.lead_time_weeks, line["urgency_reason"])
        line["explanation"] = construct(Explanation, e)
    out = [construct(Line, line, _LINE_FIELDS_SET) for line in lines]
    out.sort(key=lambda ln: (not ln.urgent, ln.containers[:1], ln.product_code))
    return out


def _ints(values: FloatArray) -> list[int]:
    return list(np.round(values).astype(np.int64).tolist())


def _urgency_reason(
    as_of: date, arrival: date, runs_out: bool, run_out: date | None, week: int, safety: int
) -> str:
    if runs_out and run_out is not None:
        early = (arrival - run_out).days / 7
        return (
            f"runs out on {run_out.isoformat()}, {early:.1f} weeks before an order placed "
            f"today arrives ({arrival.isoformat()})"
        )
    when = as_of + timedelta(weeks=week)
    return (
        f"falls below safety stock ({safety:,} cartons) in the week of {when.isoformat()}, "
        f"before an order placed today arrives ({arrival.isoformat()})"
    )


def _rounding(need: int, base: int, pack: int, moq: int) -> str | None:
    if base <= 0:
        return None
    minimum = effective_moq(pack, moq)
    if base == minimum and need < minimum:
        moq_note = f"MOQ {moq:,}" if moq > pack else f"one pack of {pack:,}"
        return f"need {need:,} raised to the minimum order {minimum:,} ({moq_note})"
    if base != need:
        return f"need {need:,} rounded up to {base:,} ({base // pack:,} packs of {pack:,})"
    return None


def _safety_rule(result: PlanResult) -> str:
    s = result.settings
    if s.safety_stock_mode is SafetyStockMode.WEEKS:
        return f"{s.safety_weeks:g} weeks of forecast after the target"
    return (
        f"z={s.z:.2f} (service level {s.service_level:.0%}) x weekly sigma x "
        f"sqrt({s.lead_time_weeks}+{s.review_period_weeks} weeks)"
    )


def _text(e: dict[str, Any], quantity: int, lead: int, reason: str | None) -> str:
    """The explanation as one paragraph, from the fields of an `Explanation`."""
    method, pattern, weeks = e["method"], e["pattern"], e["history_weeks"]
    history = (
        f"{weeks} weeks of history"
        if pattern in _UNCLASSIFIED
        else f"{pattern} demand, {weeks} weeks of history"
    )
    run_out: date | None = e["run_out_date"]
    at_arrival = e["stock_at_arrival"]
    text = (
        f"Forecast {e['forecast_weekly']:,.1f} cartons/week "
        f"({METHOD_LABELS.get(method, method)}; {history}). "
        f"Stock {e['stock_used']:,} + pipeline {e['pipeline']:,} = "
        f"{_fmt_weeks(e['cover_now_weeks'])} of cover"
        f"{f'; runs out {run_out.isoformat()}.' if run_out else '.'} "
        f"At arrival on {e['arrival_date'].isoformat()} (lead time {lead} weeks) stock will be "
        f"{at_arrival:,} ({_fmt_weeks(e['cover_at_arrival_weeks'])}). "
        f"Target {e['target_weeks']:g} weeks = {e['target_cartons']:,} + safety "
        f"{e['safety_stock_cartons']:,} - {at_arrival:,} at arrival: need {e['need_cartons']:,}."
    )
    rounding: str | None = e["rounding"]
    if rounding:
        text += f" {rounding[0].upper()}{rounding[1:]}."
    if e["pull_forward_cartons"]:
        text += f" Pulled forward {e['pull_forward_cartons']:,} cartons to fill the last container."
    text += f" Order {quantity:,}: {_fmt_weeks(e['cover_after_order_weeks'])} of cover at arrival."
    if reason:
        text += f" Urgent: {reason}."
    for w in e["warnings"]:
        text += f" {w[0].upper()}{w[1:]}."
    return text


_UNCLASSIFIED = (DemandPattern.SHORT_HISTORY, DemandPattern.NO_HISTORY)


def _note(result: PlanResult, i: int, status: PlanStatus, deferred: int) -> str | None:
    if status is PlanStatus.NO_HISTORY:
        return "No shipment history to forecast from; not ordered automatically."
    if status is PlanStatus.STOCK_UNKNOWN:
        return "The ERP gave no stock on hand; skipped (settings: missing_stock=skip)."
    if deferred > 0:
        return (
            f"Needs {int(result.base_order[i]):,} cartons; {deferred:,} deferred because the "
            f"last container was only {result.dropped_fill_pct or 0:.0f}% full and held nothing "
            "urgent."
        )
    if result.forecast.method[i] == SHORT_MEAN:
        return (
            f"Short history ({int(result.history.history_weeks[i])} weeks); forecast provisional."
        )
    return None


def _totals(
    result: PlanResult, status: IntArray, lines: list[Line], containers: list[Container]
) -> Totals:
    fills = [c.fill_pct for c in containers]
    return Totals(
        products=len(result.catalog),
        active_products=int(result.catalog.active.sum()),
        ordered_products=len(lines),
        urgent_products=int(np.sum(result.urgent & (result.order > 0))),
        at_risk_products=int(np.sum(status == STATUSES.index(PlanStatus.AT_RISK))),
        cartons=int(result.order.sum()),
        containers=len(containers),
        urgent_containers=sum(1 for c in containers if c.urgent),
        average_fill_pct=round(sum(fills) / len(fills), 2) if fills else None,
        pulled_forward_cartons=int(result.pulled.sum()),
        dropped_cartons=int(result.deferred.sum()),
    )


def _status_counts(status: IntArray) -> dict[PlanStatus, int]:
    """Products per status, in order of each status's first product (as the summary lists)."""
    codes, first, counts = np.unique(status, return_index=True, return_counts=True)
    order = np.argsort(first)
    return {
        STATUSES[c]: k for c, k in zip(codes[order].tolist(), counts[order].tolist(), strict=True)
    }


def _summary(result: PlanResult, status: IntArray, totals: Totals) -> str:
    counts = _status_counts(status)
    if not totals.ordered_products:
        if totals.active_products == 0:
            return "No active products to plan; nothing to order."
        if totals.dropped_cartons:
            return (
                f"Nothing to order this cycle: {counts.get(PlanStatus.REORDER, 0)} products "
                f"need {totals.dropped_cartons:,} cartons, but the container would be only "
                f"{result.dropped_fill_pct or 0:.0f}% full and nothing is urgent, so the order "
                "waits until it can fill a container."
            )
        healthy = counts.get(PlanStatus.HEALTHY, 0)
        if healthy == totals.active_products:
            return f"All {healthy} products are healthy; nothing to order."
        others = ", ".join(
            f"{v} {k.value.replace('_', ' ')}"
            for k, v in counts.items()
            if k not in (PlanStatus.HEALTHY, PlanStatus.DISCONTINUED)
        )
        return f"Nothing to order: {healthy} products are healthy ({others})."
    urgent_part = ""
    if totals.urgent_products:
        urgent_part = (
            f" {totals.urgent_products} urgent products run out or break safety stock before "
            f"an order placed today arrives ({totals.urgent_containers} urgent "
            f"container{'s' if totals.urgent_containers != 1 else ''})."
        )
    pulled = (
        f" {totals.pulled_forward_cartons:,} cartons pulled forward to fill the last container."
        if totals.pulled_forward_cartons
        else ""
    )
    plural = "s" if totals.containers != 1 else ""
    return (
        f"Order {totals.containers} container{plural}: {totals.cartons:,} cartons of "
        f"{totals.ordered_products} products, average fill {totals.average_fill_pct:.1f}%."
        f"{urgent_part}{pulled}"
    )
