"""Order-up-to policy: target, safety stock, rounding to packs / MOQ, urgency.

For each product, with L = lead time and an order placed today arriving at week L:
- stock at arrival P = projected stock at the start of week L plus week-L arrivals;
- target = forecast over the `target_weeks` after arrival;
- safety = forecast over the `safety_weeks` after that (mode "weeks"), or
  z * sigma * sqrt(L + R) (mode "service_level"; sigma is the standard deviation of the
  last `sigma_weeks` of weekly demand, R the review period);
- need = target + safety - P; order = need rounded up to the pack, at least the MOQ
  (itself rounded up to the pack); nothing when need <= 0 or there is no demand.
A product is urgent when, before week L, projected stock runs out (goes below zero) or
drops below its safety stock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planning.history import BoolArray, FloatArray, History, IntArray
from planning.projection import Projection, Window, cumulative
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


def targets(
    codes: list[str],
    forecast: FloatArray,
    projection: Projection,
    arrivals: FloatArray,
    history: History,
    settings: PlanSettings,
    window: Window | None = None,
) -> Targets:
    """`window`, if given, is `Window.of(forecast, settings.lead_time_weeks)`."""
    lead = settings.lead_time_weeks
    window = window or Window.of(forecast, lead)
    if settings.target_soh_overrides:
        weeks = np.array([settings.target_weeks_for(c) for c in codes], dtype=np.float64)
    else:
        weeks = np.full(len(codes), settings.target_soh_weeks)
    target = cumulative(forecast, lead, weeks, window)
    if settings.safety_stock_mode is SafetyStockMode.WEEKS:
        safety = cumulative(forecast, lead, weeks + settings.safety_weeks, window) - target
    else:
        sigma = demand_sigma(history, settings.sigma_weeks)
        protection = lead + settings.review_period_weeks
        safety = settings.z * sigma * math.sqrt(protection)
        safety = np.where(forecast.sum(axis=1) > 0, safety, 0.0)
    at_arrival = projection.start_stock[:, lead] + arrivals[:, lead]
    return Targets(
        target_weeks=weeks,
        target=np.asarray(target),
        safety=np.asarray(safety),
        stock_at_arrival=np.asarray(at_arrival),
    )


def round_orders(need: FloatArray, pack: IntArray, moq: IntArray) -> IntArray:
    """Round a positive need up to the pack multiple and at least the pack-rounded MOQ."""
    packs = np.ceil(np.maximum(need, 0.0) / pack - 1e-9).astype(np.int64)
    qty = packs * pack
    min_qty = np.maximum(np.ceil(moq / pack).astype(np.int64), 1) * pack
    return np.asarray(np.where(need > 1e-9, np.maximum(qty, min_qty), 0), dtype=np.int64)


@dataclass(frozen=True)
class Urgency:
    runs_out: BoolArray  # goes below zero before arrival
    below_safety: BoolArray  # goes below safety stock (but not zero) before arrival
    first_week: IntArray  # first week (0-based) of the breach; -1 if none

    @property
    def urgent(self) -> BoolArray:
        return np.asarray(self.runs_out | self.below_safety)


def urgency(projection: Projection, safety: FloatArray, lead: int) -> Urgency:
    n = safety.shape[0]
    if lead == 0:
        none = np.zeros(n, dtype=bool)
        return Urgency(none, none, np.full(n, -1, dtype=np.int64))
    end = projection.end_before_clamp[:, :lead]
    out = end < -1e-9
    low = end < safety[:, None] - 1e-9
    runs_out = np.asarray(out.any(axis=1), dtype=bool)
    below = np.asarray(low.any(axis=1) & ~runs_out, dtype=bool)
    breach = np.where(runs_out, out.argmax(axis=1), np.where(below, low.argmax(axis=1), -1))
    return Urgency(runs_out=runs_out, below_safety=below, first_week=breach.astype(np.int64))
