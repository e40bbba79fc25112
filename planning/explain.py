"""Turn the engine's arrays into the `Recommendation`: lines with reasons, per-product
health, containers, totals and a one-sentence summary a buyer can read.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from planning.classify import PATTERNS
from planning.forecast import METHOD_NAMES, NO_FORECAST, SHORT_MEAN
from planning.history import FloatArray, IntArray
from planning.lastcontainer import Outcome
from planning.leadtime import LeadTimeSource
from planning.packing import effective_moq, to_containers
from planning.projection import cover_from, forward_cover
from planning.schemas import (
    Container,
    ContainerNote,
    DemandPattern,
    Explanation,
    HistorySource,
    LeadTimeUsed,
    Line,
    PlanStatus,
    ProductPlan,
    Recommendation,
    Totals,
    construct,
)
from planning.settings import SafetyStockMode
from planning.sources import SOURCE_PHRASES, Source

if TYPE_CHECKING:
    from planning.engine import PlanResult

SHOWN_WEEKS = 13

# Product statuses in the order their rules are checked (`_statuses`).
STATUSES: tuple[PlanStatus, ...] = (
    PlanStatus.DISCONTINUED,
    PlanStatus.SNOOZED,
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
    "oracle": "the true future demand (backtest oracle)",
}
HISTORY_SOURCES: tuple[HistorySource, ...] = (
    HistorySource.ERP_ACTIVITY,
    HistorySource.SNAPSHOTS,
    HistorySource.SHIPMENTS,
)
SOLD_OUT_FLOOR_WARNING = (
    "never in stock from one stock count to the next: demand is read as twice what it sold "
    "before it sold out (it may be more)"
)


def _cover_list(cover: np.ndarray) -> list[float | None]:
    """Weeks of cover rounded to 0.1, with None for unbounded (no consumption)."""
    finite = np.isfinite(cover)
    values = np.round(np.where(finite, cover, 0.0), 1).tolist()
    return [v if ok else None for v, ok in zip(values, finite.tolist(), strict=True)]


def _fmt_weeks(value: float | None) -> str:
    return "unlimited" if value is None else f"{value:.1f} weeks"


_SMALL = [str(i) for i in range(1000)]
_GROUP = [f",{i:03d}" for i in range(1000)]


def _thousands(values: list[int]) -> list[str]:
    """`f"{v:,}"` of each int, from tables below a million (twice as fast)."""
    small, group = _SMALL, _GROUP
    return [
        small[v]
        if 0 <= v < 1000
        else small[v // 1000] + group[v % 1000]
        if 1000 <= v < 1_000_000
        else f"{v:,}"
        for v in values
    ]


def _format_all(values: list[Any], fmt: Callable[[Any], str]) -> list[str]:
    """`fmt` of each value, called once per distinct value. Values of one type (1 == 1.0 ==
    True would share a text); zeros and None are formatted where they are, as -0.0 == 0.0
    but prints differently."""
    text = {v: fmt(v) for v in set(values) if v}
    return [text[v] if v else fmt(v) for v in values]


def _dates(as_of: date, days: FloatArray) -> npt.NDArray[np.datetime64]:
    """`as_of` + floor(days) per product; NaT where days is NaN (no run-out in the horizon)."""
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(days)
    out[ok] = np.datetime64(as_of, "D") + np.floor(days[ok]).astype(np.int64)
    return out


def _labels(labels: tuple[Any, ...], codes: IntArray) -> list[Any]:
    """Code array -> list of the labels (enums, names) the codes stand for."""
    return list(np.array(labels, dtype=object)[codes].tolist())


def _statuses(result: PlanResult) -> IntArray:
    """Each product's index into STATUSES: the first rule that applies, in STATUSES order."""
    method = result.forecast.method
    rules = [
        ~result.catalog.active,
        result.catalog.snoozed,
        result.skipped,
        (method == NO_FORECAST) & ~result.first_lot,
        result.urgent,
        (result.base_order > 0) | result.moq_unmet,
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
    run_out_days: npt.NDArray[np.datetime64]  # the same dates (NaT for None)
    pattern: list[DemandPattern]
    method: list[str]
    source: IntArray  # `sources.Source` per product
    source_weeks: IntArray

    @classmethod
    def of(cls, result: PlanResult) -> _Shown:
        lead = result.lead
        fc = result.forecast.weekly
        tg = result.targets
        window = np.maximum(np.ceil(lead.weeks + tg.target_weeks - 1e-9).astype(np.int64), 1)
        csum = result.forecast.window(0).running[:, 1:]  # np.cumsum(fc, axis=1)
        n = len(result.catalog)
        rows = np.arange(n)
        rate = csum[rows, np.minimum(window, fc.shape[1]) - 1] / window if n else np.zeros(0)
        pipeline = result.arrivals.sum(axis=1)
        run_out = _dates(result.as_of, result.projection.run_out_day)
        return cls(
            rate=np.round(rate, 1),
            pipeline=np.round(pipeline).astype(np.int64),
            cover_now=_cover_list(
                forward_cover(result.stock_used + pipeline, fc, 0, result.forecast.window(0))
            ),
            cover_arrival=_cover_list(
                cover_from(result.forecast.window(lead.whole), lead.frac, tg.stock_at_arrival)
            ),
            run_out=run_out.tolist(),
            run_out_days=run_out,
            pattern=_labels(PATTERNS, result.classes.pattern),
            method=_labels(METHOD_NAMES, result.forecast.method),
            source=(
                np.full(n, Source.SHIPMENTS, np.int64)
                if result.history.source is None
                else result.history.source
            ),
            source_weeks=(
                np.full(n, result.history.n_weeks, np.int64)
                if result.history.source_weeks is None
                else result.history.source_weeks
            ),
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
    containers = to_containers(result.boxes, validate=False)
    notes = _container_notes(result)
    lines = _lines(result, shown)
    totals = _totals(result, status, lines, containers, len(notes))
    return construct(
        Recommendation,
        {
            "as_of": result.as_of,
            "summary": _summary(result, status, totals),
            "containers": containers,
            "lines": lines,
            "products": _product_plans(result, shown, status),
            "totals": totals,
            "warnings": list(result.warnings)
            + _moq_warnings(result)
            + [f"Container {n.index}: {n.note}" for n in notes],
            "settings": result.settings,
            "lead_time": construct(
                LeadTimeUsed,
                {
                    "weeks": round(float(result.lead.weeks), 2),
                    "sd_weeks": round(float(result.lead.sd_weeks), 2),
                    "orders": result.lead.orders,
                    "source": result.lead.source.value,
                },
            ),
            "container_notes": notes,
        },
    )


def _product_plans(result: PlanResult, shown: _Shown, status: IntArray) -> list[ProductPlan]:
    cat = result.catalog
    notes: list[str | None] = [None] * len(cat)
    noted = (
        (status == STATUSES.index(PlanStatus.NO_HISTORY))
        | (status == STATUSES.index(PlanStatus.STOCK_UNKNOWN))
        | (status == STATUSES.index(PlanStatus.SNOOZED))
        | (result.deferred > 0)
        | (result.forecast.method == SHORT_MEAN)
        | result.moq_unmet
        | result.first_lot
    )
    for i in np.flatnonzero(noted).tolist():
        notes[i] = _note(result, i, STATUSES[int(status[i])], int(result.deferred[i]))
    columns = zip(
        cat.codes,
        cat.names,
        _labels(STATUSES, status),
        shown.pattern,
        shown.method,
        shown.rate.tolist(),
        np.round(result.forecast.weekly[:, :SHOWN_WEEKS], 1).tolist(),
        cat.reported_stock,
        shown.pipeline.tolist(),
        shown.cover_now,
        shown.cover_arrival,
        shown.run_out,
        _ints(result.projection.start_stock[:, :SHOWN_WEEKS]),
        result.order.tolist(),
        (result.urgent & (result.order > 0)).tolist(),
        _labels(HISTORY_SOURCES, shown.source),
        notes,
        strict=True,
    )
    # A dict display per product (much cheaper than dict(zip(names, values))).
    return [
        construct(
            ProductPlan,
            {
                "product_code": code,
                "name": name,
                "status": status_,
                "pattern": pattern,
                "method": method,
                "weekly_forecast": rate,
                "forecast": forecast,
                "stock_on_hand": stock,
                "pipeline": pipeline,
                "weeks_of_cover": cover,
                "cover_at_arrival_weeks": cover_at_arrival,
                "run_out_date": run_out,
                "projected_stock": projected,
                "ordered_quantity": ordered,
                "urgent": urgent,
                "history_source": source,
                "note": note,
            },
            _PRODUCT_FIELDS,
        )
        for (
            code,
            name,
            status_,
            pattern,
            method,
            rate,
            forecast,
            stock,
            pipeline,
            cover,
            cover_at_arrival,
            run_out,
            projected,
            ordered,
            urgent,
            source,
            note,
        ) in columns
    ]


_PRODUCT_FIELDS = frozenset(ProductPlan.model_fields)


_LINE_FIELDS_SET = frozenset(Line.model_fields) - {"edited"}
_EXPLANATION_FIELDS = frozenset(Explanation.model_fields)


def _lines(result: PlanResult, shown: _Shown) -> list[Line]:
    """A line per ordered product with its explanation; urgent first, then by container.

    Built a column at a time: every value is picked, converted and (for the text) formatted
    in bulk, then one pass per line assembles the reasons, the paragraph and the models.
    """
    cat, tg, u = result.catalog, result.targets, result.urgency
    picked = np.flatnonzero(result.order > 0)
    rows = picked.tolist()
    count = len(rows)
    lead = result.lead
    arrival = result.as_of + timedelta(days=round(lead.weeks * 7))
    arrival_iso = arrival.isoformat()
    lead_text = lead.describe()
    lead_weeks = round(float(lead.weeks), 2)
    rule = _safety_rule(result)

    # Container indexes per product, numbered as `to_containers` numbers the boxes.
    in_containers: dict[str, list[int]] = {}
    for index, box in enumerate(result.boxes, start=1):
        for code in box.lines:
            in_containers.setdefault(code, []).append(index)

    def pick(values: list[Any]) -> list[Any]:
        return [values[i] for i in rows]

    codes = pick(cat.codes)
    names = pick(cat.names)
    reported = pick(cat.reported_stock)
    weight = pick(cat.weight)
    volume = pick(cat.volume)
    quantity = result.order[picked].tolist()
    pack = cat.pack[picked].tolist()
    moq = cat.moq[picked].tolist()
    urgent = result.urgent[picked].tolist()
    containers = [in_containers.get(code, []) for code in codes]
    rate = shown.rate[picked].tolist()
    method = pick(shown.method)
    pattern = pick(shown.pattern)
    history_weeks = result.history.history_weeks[picked].tolist()
    stock_used = _ints(result.stock_used[picked])
    pipeline = shown.pipeline[picked].tolist()
    at_arrival = _ints(tg.stock_at_arrival[picked])
    target_weeks = tg.target_weeks[picked].tolist()
    target = _ints(tg.target[picked])
    safety = _ints(tg.safety[picked])
    # Whole cartons as the order counts them: under half a carton is none.
    need = np.ceil(np.maximum(result.need[picked], 0) - 0.5 - 1e-9).astype(np.int64).tolist()
    base = result.base_order[picked].tolist()
    pulled = result.pulled[picked].tolist()
    cover_now = pick(shown.cover_now)
    cover_arrival = pick(shown.cover_arrival)
    cover_after = _cover_list(
        cover_from(
            result.forecast.window(lead.whole), lead.frac, tg.stock_at_arrival + result.order
        )[picked]
    )
    source_code = shown.source[picked].tolist()
    source_weeks = shown.source_weeks[picked].tolist()
    n_weeks = result.history.n_weeks
    run_out = pick(shown.run_out)
    run_out_iso = np.datetime_as_string(shown.run_out_days[picked]).tolist()
    missing = result.stock_missing[picked].tolist()
    negative = result.stock_negative[picked].tolist()
    runs_out = u.runs_out[picked].tolist()
    breach = u.first_week[picked].tolist()
    first_lot = result.first_lot[picked].tolist()
    floor = result.history.sold_out_floor
    sold_out_floor = [False] * len(picked) if floor is None else floor[picked].tolist()

    # The paragraph's numbers, formatted a column at a time.
    rate_text = _format_all(rate, "{:,.1f}".format)
    used_text, pipeline_text, at_arrival_text, target_text, safety_text, need_text, qty_text = (
        _thousands(column)
        for column in (stock_used, pipeline, at_arrival, target, safety, need, quantity)
    )
    cover_now_text, cover_arrival_text, cover_after_text = (
        _format_all(column, _fmt_weeks) for column in (cover_now, cover_arrival, cover_after)
    )
    weeks_text = {w: f"{w:g}" for w in set(target_weeks)}
    minimum = {pm: effective_moq(*pm) for pm in set(zip(pack, moq, strict=True))}
    sources: dict[tuple[str, DemandPattern, int, int, int], str] = {}  # "(method; ...)"

    lines: list[Line] = []
    for k in range(count):
        m, p, weeks = method[k], pattern[k], history_weeks[k]
        warnings: list[str] = []
        if missing[k]:
            warnings.append("stock on hand missing from the ERP; planned as 0 - check it")
        if negative[k]:
            warnings.append(f"ERP reported negative stock ({reported[k]:,}); planned as 0")
        if m == "short_history_mean":
            warnings.append(f"only {weeks} weeks of history; forecast is provisional")
        if sold_out_floor[k]:
            warnings.append(SOLD_OUT_FLOOR_WARNING)
        reason = (
            _urgency_reason(
                result.as_of,
                arrival,
                arrival_iso,
                runs_out[k],
                run_out[k],
                run_out_iso[k],
                breach[k],
                safety[k],
            )
            if urgent[k]
            else None
        )
        rounding = _rounding(need[k], need_text[k], base[k], pack[k], moq[k], minimum)

        src, src_weeks = source_code[k], source_weeks[k]
        source = sources.get((m, p, weeks, src, src_weeks))
        if source is None:
            history = (
                f"{weeks} weeks of history"
                if p in _UNCLASSIFIED
                else f"{p} demand, {weeks} weeks of history"
            )
            source = sources[m, p, weeks, src, src_weeks] = (
                f"({METHOD_LABELS.get(m, m)}; {history}) {_source_phrase(src, src_weeks, n_weeks)}"
            )
        at = at_arrival_text[k]
        rounded = f" {rounding[0].upper()}{rounding[1:]}." if rounding else ""
        pull = (
            f" Pulled forward {pulled[k]:,} cartons to fill the last container."
            if pulled[k]
            else ""
        )
        why = f" Urgent: {reason}." if reason else ""
        text = (
            f"Forecast {rate_text[k]} cartons/week {source}. "
            f"Stock {used_text[k]} + pipeline {pipeline_text[k]} = {cover_now_text[k]} of cover"
            f"{f'; runs out {run_out_iso[k]}.' if run_out[k] else '.'} "
            f"At arrival on {arrival_iso} ({lead_text}) stock will be "
            f"{at} ({cover_arrival_text[k]}). "
            f"Target {weeks_text[target_weeks[k]]} weeks = {target_text[k]} + safety "
            f"{safety_text[k]} - {at} at arrival: need {need_text[k]}.{rounded}{pull}"
            f" Order {qty_text[k]}: {cover_after_text[k]} of cover at arrival.{why}"
        )
        if first_lot[k]:
            text = _first_lot_text(need_text[k], qty_text[k], rounded)
        for w in warnings:
            text += f" {w[0].upper()}{w[1:]}."

        explanation = construct(
            Explanation,
            {
                "forecast_weekly": rate[k],
                "method": m,
                "pattern": p,
                "history_weeks": weeks,
                "stock_on_hand": reported[k],
                "stock_used": stock_used[k],
                "pipeline": pipeline[k],
                "cover_now_weeks": cover_now[k],
                "stock_at_arrival": at_arrival[k],
                "cover_at_arrival_weeks": cover_arrival[k],
                "run_out_date": run_out[k],
                "arrival_date": arrival,
                "target_weeks": target_weeks[k],
                "target_cartons": target[k],
                "safety_stock_cartons": safety[k],
                "safety_stock_rule": rule,
                "need_cartons": need[k],
                "rounding": rounding,
                "pull_forward_cartons": pulled[k],
                "cover_after_order_weeks": cover_after[k],
                "history_source": HISTORY_SOURCES[src],
                "history_source_weeks": src_weeks,
                "lead_time_weeks": lead_weeks,
                "warnings": warnings,
                "text": text,
            },
            _EXPLANATION_FIELDS,
        )
        lines.append(
            construct(
                Line,
                {
                    "product_code": codes[k],
                    "name": names[k],
                    "quantity": quantity[k],
                    "packs": quantity[k] // pack[k],
                    "pack_size": pack[k],
                    "moq": moq[k],
                    "urgent": urgent[k],
                    "urgency_reason": reason,
                    "containers": containers[k],
                    "carton_weight_kg": weight[k],
                    "carton_volume_m3": volume[k],
                    "edited": False,
                    "explanation": explanation,
                    "value": None,
                },
                _LINE_FIELDS_SET,
            )
        )

    # Urgent first, then by first container (none before any), then by code: as one integer
    # per line, since sorting on (not urgent, containers[:1], code) tuples costs far more.
    code_rank = {code: r for r, code in enumerate(sorted(codes))}
    span = len(result.boxes) + 1
    keys = [
        ((not u) * span + (c[0] if c else 0)) * count + code_rank[code]
        for u, c, code in zip(urgent, containers, codes, strict=True)
    ]
    return [lines[k] for k in sorted(range(count), key=keys.__getitem__)]


def _ints(values: FloatArray) -> list[int]:
    return list(np.round(values).astype(np.int64).tolist())


def _urgency_reason(
    as_of: date,
    arrival: date,
    arrival_iso: str,
    runs_out: bool,
    run_out: date | None,
    run_out_iso: str,
    week: int,
    safety: int,
) -> str:
    if runs_out and run_out is not None:
        early = (arrival - run_out).days / 7
        return (
            f"runs out on {run_out_iso}, {early:.1f} weeks before an order placed "
            f"today arrives ({arrival_iso})"
        )
    when = as_of + timedelta(weeks=week)
    return (
        f"falls below safety stock ({safety:,} cartons) in the week of {when.isoformat()}, "
        f"before an order placed today arrives ({arrival_iso})"
    )


def _rounding(
    need: int, need_text: str, base: int, pack: int, moq: int, minimum: dict[tuple[int, int], int]
) -> str | None:
    """How the need became the base order; `minimum` maps (pack, moq) to `effective_moq`."""
    if base <= 0:
        return None
    least = minimum[pack, moq]
    if base == least and need < least:
        moq_note = f"MOQ {moq:,}" if moq > pack else f"one pack of {pack:,}"
        return f"need {need_text} raised to the minimum order {least:,} ({moq_note})"
    if base != need:
        return f"need {need_text} rounded up to {base:,} ({base // pack:,} packs of {pack:,})"
    return None


def _safety_rule(result: PlanResult) -> str:
    s = result.settings
    if s.safety_stock_mode is SafetyStockMode.WEEKS:
        return f"{s.safety_weeks:g} weeks of forecast after the target"
    lead = result.lead
    spread = (
        f" + (forecast x lead-time spread {lead.sd_weeks:.1f} weeks)^2"
        if lead.source is LeadTimeSource.MEASURED
        else ""
    )
    return (
        f"z={s.z:.2f} (service level {100 * s.service_level:g}%) x sqrt(weekly sigma^2 x "
        f"({lead.weeks:.3g}+{s.review_period_weeks:.3g} weeks){spread})"
    )


_UNCLASSIFIED = (DemandPattern.SHORT_HISTORY, DemandPattern.NO_HISTORY)


def _first_lot_text(need: str, ordered: str, rounded: str = "") -> str:
    return (
        f"Never stocked and no history to forecast from: its last order, for {need} cartons, "
        f"was cancelled, so that first lot is ordered again.{rounded} Order {ordered}; its "
        "shipments and stock counts are its history from then on."
    )


def _note(result: PlanResult, i: int, status: PlanStatus, deferred: int) -> str | None:
    if result.first_lot[i] and result.order[i] > 0:
        return _first_lot_text(f"{int(result.need[i]):,}", f"{int(result.order[i]):,}")
    if status is PlanStatus.NO_HISTORY:
        return "No shipment history to forecast from; not ordered automatically."
    if status is PlanStatus.STOCK_UNKNOWN:
        return "The ERP gave no stock on hand; skipped (settings: missing_stock=skip)."
    if status is PlanStatus.SNOOZED:
        until = result.catalog.snoozed_until[i]
        return (
            f"Snoozed by the buyer until {until.isoformat() if until else 'further notice'}: "
            "not ordered; it comes back at the first review after."
        )
    if result.moq_unmet[i]:
        cat = result.catalog
        minimum = effective_moq(int(cat.pack[i]), int(cat.moq[i]))
        return (
            f"Needs stock, but its minimum order {minimum:,} is more than one container "
            "takes, and each container is its own ERP order: not ordered. Agree a smaller "
            "MOQ with the supplier or order it by hand."
        )
    if deferred > 0:
        why = (
            "its products can wait a review"
            if result.settings.last_container.value == "auto"
            else "it held nothing urgent"
        )
        return (
            f"Needs {int(result.base_order[i]):,} cartons; {deferred:,} deferred because the "
            f"last container was only {result.dropped_fill_pct or 0:.0f}% full and {why}."
        )
    if result.forecast.method[i] == SHORT_MEAN:
        return (
            f"Short history ({int(result.history.history_weeks[i])} weeks); forecast provisional."
        )
    return None


def _source_phrase(source: int, weeks: int, n_weeks: int) -> str:
    """ "from stock counts at each sync (12 weeks; shipments before)"."""
    phrase = f"from {SOURCE_PHRASES[source]}"
    if weeks >= n_weeks or source == Source.SHIPMENTS:
        return phrase
    return f"{phrase} (last {weeks} weeks; shipments before)"


def _container_notes(result: PlanResult) -> list[ContainerNote]:
    """Containers shipped below the minimum fill: why they ship, and what that costs."""
    notes: list[ContainerNote] = []
    s = result.settings
    for index, box in enumerate(result.boxes, start=1):
        fill = 100 * box.fill_fraction()
        if fill >= s.min_fill_pct - 1e-9:
            continue
        urgent = sorted(box.urgent_codes)
        names = ", ".join(urgent[:3]) + (f" and {len(urgent) - 3} more" if len(urgent) > 3 else "")
        if result.last.outcome is Outcome.AS_PACKED:
            why = (
                "no product has a consumption history yet (stock counts at two syncs, or "
                "the ERP's consumption reports), and a forecast read from shipments is no "
                "ground to stock up or to hold needed cartons back"
            )
            if urgent:
                why += f"; it holds urgent products ({names})"
        elif urgent:
            why = f"it holds urgent products ({names}) that run out before a later order lands"
        elif result.last.outcome is Outcome.SHIPPED and s.last_container.value == "auto":
            why = "waiting a review would lose more demand than its empty space is worth"
        else:
            why = f"the last-container policy is {s.last_container.value}"
        text = (
            f"Only {fill:.1f}% full ({box.cartons:,} cartons): shipping it now costs "
            f"{100 - fill:.1f}% of a container (below the {s.min_fill_pct:g}% minimum fill); "
            f"it ships because {why}. Consider adding products or accepting the risk."
        )
        notes.append(
            construct(
                ContainerNote,
                {"index": index, "fill_pct": round(fill, 2), "urgent": box.urgent, "note": text},
            )
        )
    return notes


def _moq_warnings(result: PlanResult) -> list[str]:
    rows = np.flatnonzero(result.moq_unmet).tolist()
    if not rows:
        return []
    codes = [result.catalog.codes[r] for r in rows]
    shown = ", ".join(codes[:5]) + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")
    return [
        f"{len(codes)} products need stock but their MOQ exceeds one container, which is "
        f"its own ERP order; not ordered: {shown}"
    ]


def _totals(
    result: PlanResult,
    status: IntArray,
    lines: list[Line],
    containers: list[Container],
    flagged: int,
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
        below_min_fill_containers=flagged,
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
    flagged = ""
    if totals.below_min_fill_containers:
        k = totals.below_min_fill_containers
        flagged = (
            f" {k} container{'s' if k != 1 else ''} below the {result.settings.min_fill_pct:g}%"
            " minimum fill: see the warnings."
        )
    return (
        f"Order {totals.containers} container{plural}: {totals.cartons:,} cartons of "
        f"{totals.ordered_products} products, average fill {totals.average_fill_pct:.1f}%."
        f"{urgent_part}{pulled}{flagged}"
    )
