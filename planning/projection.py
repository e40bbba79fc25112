"""Week-by-week stock projection, forward cover and run-out, for all products at once.

Stock at the start of week h+1 = max(0, stock_h + arrivals_h - forecast_h): demand that
finds no stock is lost, not back-ordered, so an order is never sized to refill demand
that will not be served.

Cover is *forward* cover: how many weeks of the forecast (week by week, so a seasonal
peak counts) a quantity lasts. For a flat forecast it is quantity / weekly forecast,
the glossary's definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planning.history import FloatArray


@dataclass(frozen=True)
class Projection:
    start_stock: FloatArray  # (n, H+1) stock at the start of each week (after clamping)
    end_before_clamp: FloatArray  # (n, H) stock + arrivals - forecast within each week
    run_out_day: FloatArray  # (n,) days from as_of to the first run-out; nan if none


def project(stock: FloatArray, arrivals: FloatArray, forecast: FloatArray) -> Projection:
    n, horizon = forecast.shape
    # Week-major arrays so each step reads and writes contiguous rows.
    fc = np.ascontiguousarray(forecast.T)
    arr = np.ascontiguousarray(arrivals.T)
    start = np.empty((horizon + 1, n))
    available = np.empty((horizon, n))
    end = np.empty((horizon, n))
    start[0] = stock
    for h in range(horizon):
        np.add(start[h], arr[h], out=available[h])
        np.subtract(available[h], fc[h], out=end[h])
        np.maximum(end[h], 0.0, out=start[h + 1])
    short = end < 0
    any_short = short.any(axis=0)
    week = short.argmax(axis=0)
    cols = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Interpolate within the week: the stock lasts available / weekly-rate of a week.
        frac = np.clip(available[week, cols] / fc[week, cols], 0.0, 1.0)
    run_out = np.where(any_short, 7.0 * (week + frac), np.nan)
    return Projection(start_stock=start.T, end_before_clamp=end.T, run_out_day=run_out)


@dataclass(frozen=True)
class Window:
    """The forecast from week `offset` on with its running total and mean rate: what
    `cumulative` and `forward_cover` compute first. Build it once (`Forecast.window`) when
    several of them look at the same forecast from the same week."""

    values: FloatArray  # forecast[:, offset:]
    running: FloatArray  # [0, cumulative sums along the weeks]: one column more than values
    mean_rate: FloatArray  # mean of the window per product

    @classmethod
    def of(cls, forecast: FloatArray, offset: int) -> Window:
        values = forecast[:, offset:]
        running = np.concatenate(
            [np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1
        )
        return cls(values=values, running=running, mean_rate=values.mean(axis=1))


def cumulative(
    forecast: FloatArray, offset: int, weeks: FloatArray, window: Window | None = None
) -> FloatArray:
    """Forecast summed over [offset, offset + weeks) per product; weeks may be fractional.

    `window`, if given, is `Window.of(forecast, offset)`.
    """
    w = window or Window.of(forecast, offset)
    n, span = w.values.shape
    whole = np.minimum(np.floor(weeks).astype(np.int64), span)
    frac = np.where(whole < span, weeks - whole, 0.0)
    rows = np.arange(n)
    partial = w.values[rows, np.minimum(whole, span - 1)] * frac
    return np.asarray(w.running[rows, whole] + partial, dtype=np.float64)


def forward_cover(
    quantity: FloatArray, forecast: FloatArray, offset: int, window: Window | None = None
) -> FloatArray:
    """Weeks `quantity` lasts against the forecast from week `offset`; inf for no demand.

    Beyond the horizon the mean forecast rate of the window extrapolates. `window`, if
    given, is `Window.of(forecast, offset)`.
    """
    w = window or Window.of(forecast, offset)
    csum, mean_rate = w.running[:, 1:], w.mean_rate
    n, span = w.values.shape
    qty = np.maximum(quantity, 0.0)
    full = np.count_nonzero(csum <= qty[:, None] + 1e-9, axis=1)  # whole weeks covered
    rows = np.arange(n)
    inside = full < span
    used = np.where(full > 0, csum[rows, np.maximum(full - 1, 0)], 0.0)
    rate_next = w.values[rows, np.minimum(full, span - 1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        within = full + (qty - used) / rate_next
        beyond = span + (qty - csum[:, -1]) / mean_rate
        cover = np.where(inside, within, beyond)
    return np.asarray(np.where(mean_rate > 0, cover, np.inf), dtype=np.float64)


def cumulative_from(window: Window, frac: float, weeks: FloatArray) -> FloatArray:
    """Forecast over [offset + frac, offset + frac + weeks) for `window` at `offset`:
    `cumulative` from a fractional week (an arrival part-way into a week)."""
    if frac <= 0:
        return cumulative(window.values, 0, weeks, window)
    first = window.values[:, 0] if window.values.shape[1] else np.zeros(len(weeks))
    return np.asarray(cumulative(window.values, 0, frac + weeks, window) - frac * first)


def cover_from(window: Window, frac: float, quantity: FloatArray) -> FloatArray:
    """`forward_cover` from a fractional week: weeks `quantity` lasts from offset + frac."""
    if frac <= 0:
        return forward_cover(quantity, window.values, 0, window)
    first = window.values[:, 0] if window.values.shape[1] else np.zeros(len(quantity))
    shifted = np.maximum(quantity, 0.0) + frac * first
    return np.asarray(forward_cover(shifted, window.values, 0, window) - frac)


def stock_at(
    projection: Projection, arrivals: FloatArray, forecast: FloatArray, weeks: float
) -> FloatArray:
    """Projected stock at a (fractional) week, counting that week's arrivals: what an order
    placed today finds when it arrives `weeks` from now."""
    whole = math.floor(weeks + 1e-9)
    frac = max(weeks - whole, 0.0)
    at = projection.start_stock[:, whole] + arrivals[:, whole]
    if frac > 0:
        at = np.maximum(at - frac * forecast[:, whole], 0.0)
    return np.asarray(at, dtype=np.float64)
