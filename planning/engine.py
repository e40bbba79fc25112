"""The planning engine: `plan(PlanInput) -> Recommendation`.

`plan` converts the input lists to arrays once (`history.py`, `sources.py`,
`leadtime.py`), then `plan_arrays` runs the whole pipeline on products x weeks matrices:
classify -> forecast -> project -> targets and urgency -> round -> pack -> last-container
policy. `explain.py` turns the result into the `Recommendation`. The backtest and the
bench call `plan_arrays` directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from planning.catalog import Catalog
from planning.classify import NONE, Classification, classify
from planning.errors import PlanTooLarge, UnpackableProduct
from planning.explain import build_recommendation
from planning.first_lots import cancelled_first_lots
from planning.forecast import ORACLE, Forecast, forecast, measured_error
from planning.history import (
    BoolArray,
    FloatArray,
    History,
    IntArray,
    Pipeline,
    pipeline_arrivals,
    shipped_weeks,
)
from planning.lastcontainer import Decision, Outcome, decide
from planning.leadtime import LeadTime, lead_time
from planning.packing import Box, Limits, pack_lines
from planning.policy import Targets, Urgency, round_orders, splittable, targets, urgency
from planning.pricing import priced
from planning.projection import Projection, cover_from, project
from planning.rows import report_rows, shipment_rows
from planning.schemas import PlanInput, Recommendation
from planning.settings import MissingStockPolicy, PlanSettings, SafetyStockMode
from planning.sources import (
    DayGrid,
    Source,
    SourceWeeks,
    combine,
    corrected_shipments,
    first_covered,
    reported_source,
    shipment_source,
    shipments_only,
    snapshot_source,
)

__all__ = ["Catalog", "PlanResult", "horizon_weeks", "plan", "plan_arrays", "quantities"]

MAX_CONTAINERS = 2_000
"""More containers than this in one plan is bad data (or a runaway policy), not an order."""


@dataclass
class PlanResult:
    """Everything the engine computed, as arrays; `explain` reads it."""

    as_of: date
    settings: PlanSettings
    catalog: Catalog
    history: History
    classes: Classification
    forecast: Forecast
    horizon: int
    lead: LeadTime
    stock_used: FloatArray
    stock_missing: BoolArray
    stock_negative: BoolArray
    skipped: BoolArray
    arrivals: FloatArray
    projection: Projection
    targets: Targets
    urgency: Urgency
    eligible: BoolArray
    need: FloatArray
    base_order: IntArray  # after rounding, before container policy
    order: IntArray  # final quantity per product
    pulled: IntArray  # cartons pulled forward by top-up
    deferred: IntArray  # cartons of base orders removed with a dropped container
    moq_unmet: BoolArray  # needs stock, but its MOQ does not fit in one container
    first_lot: BoolArray  # never stocked, last order cancelled: that lot ordered again
    boxes: list[Box]
    last: Decision = field(default_factory=lambda: Decision(Outcome.NONE, {}, None))
    warnings: list[str] = field(default_factory=list)

    @property
    def urgent(self) -> BoolArray:
        return np.asarray(self.urgency.urgent & self.eligible)

    @property
    def dropped_fill_pct(self) -> float | None:
        return self.last.fill_pct if self.last.outcome is Outcome.DROPPED else None


def horizon_weeks(settings: PlanSettings, lead: LeadTime | None = None) -> int:
    """Weeks projected: far enough for lead time, target + safety + a review, max cover."""
    weeks = settings.lead_time_weeks if lead is None else max(lead.weeks, settings.lead_time_weeks)
    longest_target = max([settings.target_soh_weeks, *settings.target_soh_overrides.values()])
    beyond = max(
        longest_target + settings.safety_weeks + settings.review_period_weeks,
        settings.max_cover_weeks,
    )
    return max(52, math.ceil(weeks) + math.ceil(beyond) + 2)


def history_of(inp: PlanInput, catalog: Catalog) -> tuple[History, list[str]]:
    """The weekly history from the best source per product and week (`sources.py`)."""
    settings = inp.settings
    codes = catalog.codes
    shipments = shipment_rows(codes, inp.shipments, inp.shipments_by_product)
    shipped, unknown = shipped_weeks(shipments, len(codes), inp.as_of, settings.history_weeks)
    warnings = []
    if unknown:
        warnings.append(f"{unknown:,} shipments name products not in the catalogue; ignored")
    grid = DayGrid(inp.as_of, settings.history_weeks)
    reports = report_rows(codes, inp.consumption, inp.consumption_by_product)
    if not (reports.size or inp.snapshots or inp.shipment_corrections):
        return shipped, warnings  # shipments alone: read as they are (`shipment_source`)
    sources: list[SourceWeeks] = []
    adjust = (
        corrected_shipments(codes, shipments, inp.shipment_corrections, grid)
        if inp.shipment_corrections
        else None
    )
    activity = reported_source(reports, len(codes), grid)
    if activity is not None:
        sources.append(activity)
    snaps = snapshot_source(
        catalog.codes, inp.snapshots, catalog.reported_stock, inp.order_history, grid
    )
    if snaps is not None:
        sources.append(snaps.source)
    better = bool(reports.size or inp.snapshots)
    begins = first_covered(sources, len(catalog), grid.n_weeks) if sources else None
    sources.append(shipment_source(shipped, adjust, spread=better, better_from=begins))
    if snaps is not None and snaps.rises:
        warnings.append(
            f"{snaps.rises:,} times stock rose between two syncs by more than the "
            "deliveries recorded (a delivery missing from the order history, or a stock "
            "count correction); that consumption was taken as 0"
        )
    history = combine(sources)
    if snaps is not None and snaps.sold_out_floor.any() and history.source is not None:
        floor = snaps.sold_out_floor & (history.source == Source.SNAPSHOTS)
        history = replace(history, sold_out_floor=floor)
    return history, warnings


def plan(inp: PlanInput) -> Recommendation:
    """Plan one customer's order as of `inp.as_of`. Pure: no I/O, deterministic."""
    settings = inp.settings
    catalog = Catalog.of(inp.products, {c: d for c, d in inp.snoozed.items() if d > inp.as_of})
    history, warnings = history_of(inp, catalog)
    lead = lead_time(inp.order_history, inp.as_of, settings)
    horizon = horizon_weeks(settings, lead)
    pipeline = pipeline_arrivals(catalog.codes, inp.pipeline, inp.as_of, horizon, lead.weeks)
    warnings = list(pipeline.warnings) + warnings
    lots = cancelled_first_lots(
        catalog.codes, [*inp.order_history, *inp.pipeline, *inp.cancelled_orders]
    )
    result = plan_arrays(
        inp.as_of,
        settings,
        catalog,
        history,
        pipeline,
        warnings=warnings,
        lead=lead,
        first_lots=lots,
    )
    return priced(build_recommendation(result), inp.prices, inp.currency)


def plan_arrays(
    as_of: date,
    settings: PlanSettings,
    catalog: Catalog,
    history: History,
    pipeline: Pipeline,
    *,
    warnings: list[str] | None = None,
    lead: LeadTime | None = None,
    forecast_override: FloatArray | None = None,
    first_lots: IntArray | None = None,
) -> PlanResult:
    """The whole plan on arrays. `forecast_override` (products x horizon) replaces the
    forecast: the backtest's oracle feeds the true future demand this way. `first_lots`
    (`first_lots.cancelled_first_lots`) are ordered again for products never stocked."""
    n = len(catalog)
    horizon = pipeline.arrivals.shape[1]
    lead = lead or LeadTime.of_settings(settings)
    if horizon < horizon_weeks(settings, lead):
        raise ValueError(
            f"pipeline horizon {horizon} is shorter than {horizon_weeks(settings, lead)}"
        )
    limits = Limits.from_settings(settings)
    per_container = catalog.per_container(limits)
    _check_packable(catalog, per_container)

    q = quantities(settings, catalog, history, pipeline.arrivals, lead, forecast_override)
    fc, proj, tg, urg = q.forecast, q.projection, q.targets, q.urgency
    eligible, need, stock, base_order = q.eligible, q.need, q.stock, q.base_order
    first_lot = _first_lot(first_lots, catalog, q, pipeline.arrivals)
    if first_lot.any():
        assert first_lots is not None
        wanted = first_lots.astype(np.float64)
        base_order = np.where(
            first_lot, round_orders(wanted, catalog.pack, catalog.moq), base_order
        )
        need = np.where(first_lot, wanted, need)
        eligible = eligible | first_lot
    urgent = urg.urgent & eligible
    minimum = catalog.minimum()
    base = splittable(base_order, need, per_container, minimum)
    moq_unmet = (base_order > 0) & (minimum > per_container)
    _check_size(base, catalog, limits)

    # Priority: urgent by earliest run-out, then the rest by cover at arrival.
    cover_at_arrival = cover_from(fc.window(lead.whole), lead.frac, tg.stock_at_arrival)
    run_out = np.where(np.isnan(proj.run_out_day), np.inf, proj.run_out_day)
    priority = np.lexsort((cover_at_arrival, run_out, ~urgent))
    boxes, open_box = pack_lines(
        catalog.pack_lines(priority[base[priority] > 0], base, urgent), limits
    )
    boxes, decision, pulled, deferred = decide(
        settings,
        catalog,
        boxes,
        open_box,
        fc=fc,
        tg=tg,
        lead=lead,
        base=base,
        eligible=eligible,
        urgent=urgent,
        priority=priority,
        arrivals=pipeline.arrivals,
        limits=limits,
        steady=~q.classes.is_intermittent(),
        shipments_only=shipments_only(history),
    )

    index = {c: i for i, c in enumerate(catalog.codes)}
    order = np.zeros(n, dtype=np.int64)
    np.add.at(
        order,
        np.array([index[code] for box in boxes for code in box.lines], dtype=np.int64),
        np.array([qty for box in boxes for qty in box.lines.values()], dtype=np.int64),
    )
    return PlanResult(
        as_of=as_of,
        settings=settings,
        catalog=catalog,
        history=history,
        classes=q.classes,
        forecast=fc,
        horizon=horizon,
        lead=lead,
        stock_used=stock,
        stock_missing=q.stock_missing,
        stock_negative=q.stock_negative,
        skipped=q.skipped,
        arrivals=pipeline.arrivals,
        projection=proj,
        targets=tg,
        urgency=urg,
        eligible=eligible,
        need=need,
        base_order=base,
        order=order,
        pulled=pulled,
        deferred=deferred,
        moq_unmet=moq_unmet,
        first_lot=first_lot,
        boxes=boxes,
        last=decision,
        warnings=list(warnings or []),
    )


def _first_lot(
    first_lots: IntArray | None, catalog: Catalog, q: Quantities, arrivals: FloatArray
) -> BoolArray:
    """Products to order their cancelled first lot for: active, not snoozed or skipped, no
    history to forecast from, nothing in stock and nothing on order."""
    if first_lots is None:
        return np.zeros(len(catalog), dtype=bool)
    return np.asarray(
        (first_lots > 0)
        & ~q.eligible
        & catalog.active
        & ~catalog.snoozed
        & ~q.skipped
        & (q.classes.pattern == NONE)
        & (q.stock <= 0)
        & (arrivals.sum(axis=1) <= 0),
        dtype=bool,
    )


def _check_packable(catalog: Catalog, per_container: IntArray) -> None:
    """An active product of which not one pack fits a container is bad product data."""
    bad = np.flatnonzero(catalog.active & (per_container < catalog.pack))
    if bad.size:
        r = int(bad[0])
        pack = int(catalog.pack[r])
        weight, volume = catalog.weight[r], catalog.volume[r]
        parts = [f"one pack of {pack:,} cartons"]
        if weight:
            parts.append(f"{pack * weight:,.1f} kg")
        if volume:
            parts.append(f"{pack * volume:,.3f} m³")
        more = f" (and {bad.size - 1:,} more products)" if bad.size > 1 else ""
        raise UnpackableProduct(
            catalog.codes[r],
            f"{', '.join(parts)} does not fit in an empty container; fix the pack size, "
            f"carton weight/volume or the container limits{more}",
        )


def _check_size(order: IntArray, catalog: Catalog, limits: Limits) -> None:
    """Refuse before packing what would take more than MAX_CONTAINERS containers."""
    cartons = float(order.sum())
    least = cartons / limits.cartons
    if limits.weight_kg is not None:
        weight = np.array([w or 0.0 for w in catalog.weight])
        least = max(least, float(order @ weight) / limits.weight_kg)
    if limits.volume_m3 is not None:
        volume = np.array([v or 0.0 for v in catalog.volume])
        least = max(least, float(order @ volume) / limits.volume_m3)
    if least > MAX_CONTAINERS:
        raise PlanTooLarge(math.ceil(least), MAX_CONTAINERS)


@dataclass(frozen=True)
class Quantities:
    """The numeric stage of the plan: everything up to rounded order quantities."""

    classes: Classification
    forecast: Forecast
    stock: FloatArray
    stock_missing: BoolArray
    stock_negative: BoolArray
    skipped: BoolArray
    projection: Projection
    targets: Targets
    urgency: Urgency
    eligible: BoolArray
    need: FloatArray
    base_order: IntArray


def quantities(
    settings: PlanSettings,
    catalog: Catalog,
    history: History,
    arrivals: FloatArray,
    lead: LeadTime | None = None,
    forecast_override: FloatArray | None = None,
) -> Quantities:
    """Forecast, project and size every product's order, all as array operations."""
    n = len(catalog)
    horizon = arrivals.shape[1]
    lead = lead or LeadTime.of_settings(settings)
    classes = classify(history, settings.min_history_weeks)
    service_level = settings.safety_stock_mode is SafetyStockMode.SERVICE_LEVEL
    fc = (
        forecast(history, classes, settings, horizon)
        if forecast_override is None or service_level
        else None
    )
    if forecast_override is not None:
        weekly = np.asarray(forecast_override, dtype=np.float64)[:, :horizon]
        if weekly.shape != (n, horizon):
            raise ValueError(f"forecast override must be {n} x {horizon}, not {weekly.shape}")
        # The oracle's safety stock reads the error of the forecast the history allows, as
        # the default policy's does: a perfect forecast changes the forecast, not the rule.
        error = None if fc is None else measured_error(fc, history, settings)
        fc = Forecast(weekly=weekly, method=np.full(n, ORACLE, dtype=np.int64), error=error)
    assert fc is not None
    error = measured_error(fc, history, settings) if service_level else None

    reported = catalog.reported_stock
    missing = np.array([s is None for s in reported], dtype=bool)
    raw = np.array([0 if s is None else s for s in reported], dtype=np.float64)
    negative = raw < 0
    stock = np.maximum(raw, 0.0)
    skipped = missing & (settings.missing_stock is MissingStockPolicy.SKIP)

    proj = project(stock, arrivals, fc.weekly)
    tg = targets(
        catalog.codes,
        fc.weekly,
        proj,
        arrivals,
        history,
        settings,
        lead,
        fc.window(lead.whole),
        error,
    )
    urg = urgency(proj, tg.safety, fc.weekly, arrivals, lead)

    if n:
        after = fc.window(lead.whole).running[:, -1] - lead.frac * fc.weekly[:, lead.whole]
        has_demand = after > 1e-12
    else:
        has_demand = np.zeros(0, dtype=bool)
    known = classes.pattern != NONE
    eligible = catalog.active & ~catalog.snoozed & ~skipped & known & has_demand
    need = np.where(eligible, tg.target + tg.safety - tg.stock_at_arrival, 0.0)
    base = np.where(eligible, round_orders(need, catalog.pack, catalog.moq), 0).astype(np.int64)
    return Quantities(
        classes=classes,
        forecast=fc,
        stock=stock,
        stock_missing=missing,
        stock_negative=negative,
        skipped=skipped,
        projection=proj,
        targets=tg,
        urgency=urg,
        eligible=eligible,
        need=need,
        base_order=base,
    )
