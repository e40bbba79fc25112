"""The planning engine: `plan(PlanInput) -> Recommendation`.

`plan` converts the input lists to arrays once (`history.py`), then `plan_arrays` runs the
whole pipeline on products x weeks matrices: classify -> forecast -> project -> targets
and urgency -> round -> pack -> last-container policy. `explain.py` turns the result into
the `Recommendation`. The backtest and the bench call `plan_arrays` directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from planning.classify import NONE, Classification, classify
from planning.explain import build_recommendation
from planning.forecast import SHORT_MEAN, Forecast, forecast
from planning.history import (
    BoolArray,
    FloatArray,
    History,
    IntArray,
    Pipeline,
    pipeline_arrivals,
    weekly_history,
)
from planning.models import Product, ProductStatus
from planning.packing import Box, Limits, PackItem, PackLines, effective_moq, pack_lines, top_up
from planning.policy import Targets, Urgency, round_orders, targets, urgency
from planning.projection import Projection, cumulative, forward_cover, project
from planning.schemas import PlanInput, Recommendation
from planning.settings import LastContainerPolicy, MissingStockPolicy, PlanSettings


@dataclass(frozen=True)
class Catalog:
    """Product attributes as arrays, in input order."""

    codes: list[str]
    names: list[str]
    pack: IntArray
    moq: IntArray
    active: BoolArray
    weight: list[float | None]
    volume: list[float | None]
    reported_stock: list[int | None]

    @classmethod
    def of(cls, products: Sequence[Product]) -> Catalog:
        return cls(
            codes=[p.code for p in products],
            names=[p.name for p in products],
            pack=np.array([p.pack_size for p in products], dtype=np.int64),
            moq=np.array([p.moq for p in products], dtype=np.int64),
            active=np.array([p.status is ProductStatus.ACTIVE for p in products], dtype=bool),
            weight=[p.carton_weight_kg for p in products],
            volume=[p.carton_volume_m3 for p in products],
            reported_stock=[p.stock_on_hand for p in products],
        )

    def __len__(self) -> int:
        return len(self.codes)

    def pack_item(self, row: int, quantity: int, urgent: bool = False) -> PackItem:
        return PackItem(
            product_code=self.codes[row],
            quantity=quantity,
            urgent=urgent,
            carton_weight_kg=self.weight[row],
            carton_volume_m3=self.volume[row],
            pack_size=int(self.pack[row]),
            min_quantity=effective_moq(int(self.pack[row]), int(self.moq[row])),
        )

    def pack_lines(self, rows: IntArray, quantity: IntArray, urgent: BoolArray) -> PackLines:
        """`pack_item` for each of `rows` (in that order), as `PackLines` built in bulk."""
        row_list = rows.tolist()
        pack = self.pack[rows].tolist()
        moq = self.moq[rows].tolist()
        minimum = {pm: effective_moq(*pm) for pm in set(zip(pack, moq, strict=True))}
        return PackLines(
            product_code=[self.codes[r] for r in row_list],
            quantity=quantity[rows].tolist(),
            urgent=urgent[rows].tolist(),
            carton_weight_kg=[self.weight[r] for r in row_list],
            carton_volume_m3=[self.volume[r] for r in row_list],
            pack_size=pack,
            min_quantity=[minimum[pm] for pm in zip(pack, moq, strict=True)],
        )


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
    boxes: list[Box]
    dropped_fill_pct: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def urgent(self) -> BoolArray:
        return np.asarray(self.urgency.urgent & self.eligible)


def horizon_weeks(settings: PlanSettings) -> int:
    """Weeks projected: far enough for lead time, target + safety and max cover."""
    longest_target = max([settings.target_soh_weeks, *settings.target_soh_overrides.values()])
    beyond = max(longest_target + settings.safety_weeks, settings.max_cover_weeks)
    return max(52, settings.lead_time_weeks + math.ceil(beyond) + 2)


def plan(inp: PlanInput) -> Recommendation:
    """Plan one customer's order as of `inp.as_of`. Pure: no I/O, deterministic."""
    settings = inp.settings
    catalog = Catalog.of(inp.products)
    history, unknown = weekly_history(
        catalog.codes, inp.shipments, inp.as_of, settings.history_weeks
    )
    horizon = horizon_weeks(settings)
    pipeline = pipeline_arrivals(
        catalog.codes, inp.pipeline, inp.as_of, horizon, settings.lead_time_weeks
    )
    warnings = list(pipeline.warnings)
    if unknown:
        warnings.append(f"{unknown:,} shipments name products not in the catalogue; ignored")
    result = plan_arrays(inp.as_of, settings, catalog, history, pipeline, warnings=warnings)
    return build_recommendation(result)


def plan_arrays(
    as_of: date,
    settings: PlanSettings,
    catalog: Catalog,
    history: History,
    pipeline: Pipeline,
    *,
    warnings: list[str] | None = None,
) -> PlanResult:
    n = len(catalog)
    horizon = pipeline.arrivals.shape[1]
    lead = settings.lead_time_weeks
    if horizon < horizon_weeks(settings):
        raise ValueError(f"pipeline horizon {horizon} is shorter than {horizon_weeks(settings)}")

    q = quantities(settings, catalog, history, pipeline.arrivals)
    classes, fc, proj, tg, urg = q.classes, q.forecast, q.projection, q.targets, q.urgency
    eligible, need, base, stock = q.eligible, q.need, q.base_order, q.stock
    missing, negative, skipped = q.stock_missing, q.stock_negative, q.skipped
    urgent = urg.urgent & eligible

    # Priority: urgent by earliest run-out, then the rest by cover at arrival.
    cover_at_arrival = forward_cover(tg.stock_at_arrival, fc.weekly, lead, fc.window(lead))
    run_out = np.where(np.isnan(proj.run_out_day), np.inf, proj.run_out_day)
    priority = np.lexsort((cover_at_arrival, run_out, ~urgent))
    limits = Limits.from_settings(settings)
    boxes, open_box = pack_lines(
        catalog.pack_lines(priority[base[priority] > 0], base, urgent), limits
    )

    index = _index(catalog)
    pulled = np.zeros(n, dtype=np.int64)
    deferred = np.zeros(n, dtype=np.int64)
    dropped_fill: float | None = None
    policy = settings.last_container
    if open_box is not None and policy is LastContainerPolicy.TOP_UP:
        candidates = _top_up_candidates(catalog, fc, classes, tg, base, eligible, settings)
        for code, qty in top_up(open_box, candidates).items():
            pulled[index[code]] += qty
    if (
        open_box is not None
        and policy is not LastContainerPolicy.KEEP
        and not open_box.urgent
        and 100 * open_box.fill_fraction() < settings.min_fill_pct
    ):
        dropped_fill = 100 * open_box.fill_fraction()
        boxes, deferred = _drop(open_box, base, pulled, catalog, urgent, priority, limits, index)
        pulled[:] = 0

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
        classes=classes,
        forecast=fc,
        horizon=horizon,
        stock_used=stock,
        stock_missing=missing,
        stock_negative=negative,
        skipped=skipped,
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
        boxes=boxes,
        dropped_fill_pct=dropped_fill,
        warnings=list(warnings or []),
    )


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
    settings: PlanSettings, catalog: Catalog, history: History, arrivals: FloatArray
) -> Quantities:
    """Forecast, project and size every product's order, all as array operations."""
    n = len(catalog)
    horizon = arrivals.shape[1]
    lead = settings.lead_time_weeks
    classes = classify(history, settings.min_history_weeks)
    fc = forecast(history, classes, settings, horizon)

    reported = catalog.reported_stock
    missing = np.array([s is None for s in reported], dtype=bool)
    raw = np.array([0 if s is None else s for s in reported], dtype=np.float64)
    negative = raw < 0
    stock = np.maximum(raw, 0.0)
    skipped = missing & (settings.missing_stock is MissingStockPolicy.SKIP)

    proj = project(stock, arrivals, fc.weekly)
    tg = targets(catalog.codes, fc.weekly, proj, arrivals, history, settings, fc.window(lead))
    urg = urgency(proj, tg.safety, lead)

    has_demand = fc.weekly[:, lead:].sum(axis=1) > 0 if n else np.zeros(0, dtype=bool)
    eligible = catalog.active & ~skipped & (classes.pattern != NONE) & has_demand
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


def _index(catalog: Catalog) -> dict[str, int]:
    return {c: i for i, c in enumerate(catalog.codes)}


def _top_up_candidates(
    catalog: Catalog,
    fc: Forecast,
    classes: Classification,
    tg: Targets,
    base: IntArray,
    eligible: BoolArray,
    settings: PlanSettings,
) -> Iterator[tuple[PackItem, int, int]]:
    """Products that run out next, each with how much may be pulled forward (lazily: the
    container usually fills after a few).

    The ceiling is `max_cover_weeks` of forecast after arrival. Short-history products are
    not pulled forward: stocking up on an unproven product is the risk to avoid.
    """
    lead = settings.lead_time_weeks
    after = tg.stock_at_arrival + base
    window = fc.window(lead)
    cover_after = forward_cover(after, fc.weekly, lead, window)
    ceiling = cumulative(fc.weekly, lead, np.full(len(catalog), settings.max_cover_weeks), window)
    allowance = np.floor((ceiling - after) / catalog.pack) * catalog.pack
    ok = eligible & (fc.method != SHORT_MEAN) & (allowance > 0)
    rows = np.flatnonzero(ok)
    rows = rows[np.argsort(cover_after[rows], kind="stable")]
    for r in rows.tolist():
        minimum = 0 if base[r] > 0 else effective_moq(int(catalog.pack[r]), int(catalog.moq[r]))
        yield catalog.pack_item(r, int(allowance[r])), int(catalog.pack[r]), minimum


def _drop(
    open_box: Box,
    base: IntArray,
    pulled: IntArray,
    catalog: Catalog,
    urgent: BoolArray,
    priority: IntArray,
    limits: Limits,
    index: dict[str, int],
) -> tuple[list[Box], IntArray]:
    """Remove the under-filled last container and re-pack what is left.

    Products that had cartons in it keep the rest of their order rounded down to a pack
    multiple (or nothing, if that is below the MOQ); pulled-forward cartons go entirely.
    """
    keep = base.copy()
    for code, qty in open_box.lines.items():
        r = index[code]
        in_box = qty - int(pulled[r])  # pulled-forward cartons are all in the open box
        left = (int(base[r]) - in_box) // int(catalog.pack[r]) * int(catalog.pack[r])
        if left < effective_moq(int(catalog.pack[r]), int(catalog.moq[r])):
            left = 0
        keep[r] = left
    new_boxes, _ = pack_lines(
        catalog.pack_lines(priority[keep[priority] > 0], keep, urgent), limits
    )
    deferred = np.asarray(base - keep, dtype=np.int64)
    return new_boxes, deferred
