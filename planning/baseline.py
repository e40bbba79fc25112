"""The baseline a spreadsheet computes, vectorised: trailing average -> projection to
arrival -> order-up-to (target + safety weeks) -> pack / MOQ rounding (with the settings'
lead time; it measures nothing).

It gives the same quantities as the engine run with `forecast_method="trailing_average"`
(a test holds them equal) while skipping what the full plan adds (classification,
run-out dates, urgency, explanations). The benchmark measures it against a pure-Python
implementation of the same calculation; it is also a quick "what would the spreadsheet
order?" reference.
"""

from __future__ import annotations

import math

import numpy as np

from planning.history import BoolArray, FloatArray, History, IntArray
from planning.policy import round_orders
from planning.settings import PlanSettings


def baseline_orders(
    history: History,
    stock: FloatArray,
    arrivals: FloatArray,
    pack: IntArray,
    moq: IntArray,
    active: BoolArray,
    settings: PlanSettings,
    target_weeks: FloatArray | None = None,
) -> IntArray:
    n, t = history.weekly.shape
    window_start = max(t - settings.trailing_weeks, 0)
    total = history.weekly[:, window_start:].sum(axis=1)
    # Weeks before the first shipment do not count (they are zeros in the window).
    weeks = t - np.maximum(history.first_week, window_start)
    rate = np.where(weeks > 0, total / np.maximum(weeks, 1), 0.0)

    whole = math.floor(settings.lead_time_weeks + 1e-9)
    frac = max(settings.lead_time_weeks - whole, 0.0)
    due = np.ascontiguousarray(arrivals[:, : whole + 1].T)  # week-major: contiguous rows
    level = np.maximum(stock, 0.0)
    for h in range(whole):
        level += due[h]
        level -= rate
        np.maximum(level, 0.0, out=level)
    at_arrival = level + due[whole]
    if frac > 0:  # the order lands part-way into its week
        at_arrival = np.maximum(at_arrival - frac * rate, 0.0)
    weeks_target = np.full(n, settings.target_soh_weeks) if target_weeks is None else target_weeks
    need = rate * (weeks_target + settings.safety_weeks) - at_arrival
    eligible = active & (rate > 0)
    return np.asarray(np.where(eligible, round_orders(need, pack, moq), 0), dtype=np.int64)
