"""Order-up-to policy: target, safety stock, rounding to packs / MOQ, urgency.

For each product, with L = lead time (weeks, possibly fractional) and an order placed today
arriving at L:
- stock at arrival P = projected stock at L, counting the pipeline due by then;
- target = forecast over the `target_weeks` after arrival;
- safety = forecast over the `safety_weeks` after that (mode "weeks"), or
  z * sqrt((L + R) * sigma_d^2 + d^2 * sigma_L^2) (mode "service_level": demand varies over
  the lead time and review period R, and the lead time itself varies; sigma_d is the
  standard deviation of the last `sigma_weeks` of weekly demand, d the weekly forecast,
  sigma_L the lead time's spread);
- need = target + safety - P; order = the need in whole cartons (a need under half a
  carton is none) rounded up to the pack, at least the MOQ (itself rounded up to the pack).
A product is urgent when, before L, its projection loses at least a carton of demand (runs
out) or drops at least a carton below its safety stock: a product whose forecast is a
fraction of a carton over the whole lead time is not urgent for having no stock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planning.history import BoolArray, FloatArray, History, IntArray
from planning.leadtime import LeadTime
from planning.projection import Projection, Window, cumulative_from, stock_at
from planning.settings import PlanSettings, SafetyStockMode


@dataclass(frozen=True)
class Targets:
    target_weeks: FloatArray
    target: FloatArray
    safety: FloatArray
    stock_at_arrival: FloatArray


def demand_sigma(history: History, weeks: int) -> FloatArray:
    """Sample standard deviation of the last `weeks` weeks since the first shipment."""
    y = history.weekly[:, -weeks:]
    t0 = history.n_weeks - y.shape[1]
    mask = np.arange(t0, history.n_weeks)[None, :] >= history.first_week[:, None]
    count = mask.sum(axis=1)
    mean = np.where(mask, y, 0.0).sum(axis=1) / np.maximum(count, 1)
    sq = np.where(mask, (y - mean[:, None]) ** 2, 0.0).sum(axis=1)
    return np.asarray(np.where(count > 1, np.sqrt(sq / np.maximum(count - 1, 1)), 0.0))


ERROR_TO_SIGMA = 1.25  # standard deviation / mean absolute deviation of a normal error


def weekly_sigma(error: FloatArray | None, history: History, settings: PlanSettings) -> FloatArray:
    """Weekly demand variability around the forecast: from the forecast's measured error of
    cumulative demand over H = `selection_horizon_weeks` weeks (sigma_H = 1.25 * MAE,
    sigma_d = sigma_H / sqrt(H)), which sees intermittency, bias and lumps as they are; where
    no origin could test the forecast, the standard deviation of recent weekly demand."""
    fallback = demand_sigma(history, settings.sigma_weeks)
    if error is None:
        return fallback
    h = settings.selection_horizon_weeks
    from_error = ERROR_TO_SIGMA * error / math.sqrt(h)
    return np.asarray(np.where(np.isfinite(error), from_error, fallback))


def targets(
    codes: list[str],
    forecast: FloatArray,
    projection: Projection,
    arrivals: FloatArray,
    history: History,
    settings: PlanSettings,
    lead: LeadTime,
    window: Window | None = None,
    error: FloatArray | None = None,
) -> Targets:
    """`window`, if given, is `Window.of(forecast, lead.whole)`; `error`, the forecast's
    measured error (`Forecast.error`), is what service-level safety stock reads."""
    window = window or Window.of(forecast, lead.whole)
    if settings.target_soh_overrides:
        weeks = np.array([settings.target_weeks_for(c) for c in codes], dtype=np.float64)
    else:
        weeks = np.full(len(codes), settings.target_soh_weeks)
    target = cumulative_from(window, lead.frac, weeks)
    if settings.safety_stock_mode is SafetyStockMode.WEEKS:
        safety = cumulative_from(window, lead.frac, weeks + settings.safety_weeks) - target
    else:
        sigma = weekly_sigma(error, history, settings)
        protection = lead.weeks + settings.review_period_weeks
        rate = target / np.maximum(weeks, 1e-9)
        spread = protection * sigma**2 + (rate * lead.sd_weeks) ** 2
        safety = settings.z * np.sqrt(spread)
        safety = np.where(forecast.sum(axis=1) > 0, safety, 0.0)
    at_arrival = stock_at(projection, arrivals, forecast, lead.weeks)
    return Targets(
        target_weeks=weeks,
        target=np.asarray(target),
        safety=np.asarray(safety),
        stock_at_arrival=np.asarray(at_arrival),
    )


def round_orders(need: FloatArray, pack: IntArray, moq: IntArray) -> IntArray:
    """Round a need of at least half a carton up to the pack multiple, and at least the
    pack-rounded MOQ; a smaller need is no order (a pack for a fraction of a carton of
    expected demand is stock nobody needs)."""
    cartons = np.ceil(np.maximum(need, 0.0) - 0.5 - 1e-9)
    packs = np.ceil(cartons / pack - 1e-9).astype(np.int64)
    qty = packs * pack
    min_qty = np.maximum(np.ceil(moq / pack).astype(np.int64), 1) * pack
    return np.asarray(np.where(cartons >= 1, np.maximum(qty, min_qty), 0), dtype=np.int64)


def splittable(
    quantity: IntArray, need: FloatArray, per_container: IntArray, minimum: IntArray
) -> IntArray:
    """Quantities every container share of which can be at least `minimum` (each container
    is its own ERP order): k = ceil(q / per_container) shares need k * minimum <= q. Others
    become (k - 1) full containers when that still covers the need, else k minimum shares.
    Where even one container cannot take the minimum, nothing (the caller warns)."""
    q = quantity
    k = -(-q // np.maximum(per_container, 1))
    bad = (q > 0) & (k * minimum > q)
    down = (k - 1) * per_container
    fixed = np.where(down >= np.maximum(need, minimum) - 1e-9, down, k * minimum)
    out = np.where(bad, fixed, q)
    return np.asarray(np.where(minimum > per_container, 0, out), dtype=np.int64)


@dataclass(frozen=True)
class Urgency:
    runs_out: BoolArray  # goes below zero before arrival
    below_safety: BoolArray  # goes below safety stock (but not zero) before arrival
    first_week: IntArray  # first week (0-based) of the breach; -1 if none

    @property
    def urgent(self) -> BoolArray:
        return np.asarray(self.runs_out | self.below_safety)


def urgency(
    projection: Projection,
    safety: FloatArray,
    forecast: FloatArray,
    arrivals: FloatArray,
    lead: LeadTime,
) -> Urgency:
    n = safety.shape[0]
    whole = lead.whole
    end = projection.end_before_clamp[:, :whole]
    if lead.frac > 0:  # the part of the arrival week before the order lands
        part = projection.start_stock[:, whole] + arrivals[:, whole]
        part = part - lead.frac * forecast[:, whole]
        end = np.concatenate([end, part[:, None]], axis=1)
    if end.shape[1] == 0:
        none = np.zeros(n, dtype=bool)
        return Urgency(none, none, np.full(n, -1, dtype=np.int64))
    lost = np.cumsum(np.maximum(-end, 0.0), axis=1)  # demand the projection loses, cumulated
    out = lost >= 1.0 - 1e-9
    low = end < safety[:, None] - 1.0 + 1e-9
    runs_out = np.asarray(out.any(axis=1), dtype=bool)
    below = np.asarray(low.any(axis=1) & ~runs_out, dtype=bool)
    first_short = np.argmax(end < -1e-9, axis=1)
    breach = np.where(runs_out, first_short, np.where(below, low.argmax(axis=1), -1))
    return Urgency(runs_out=runs_out, below_safety=below, first_week=breach.astype(np.int64))
