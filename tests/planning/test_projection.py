"""Stock projection, forward cover and cumulative forecast."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planning.forecast import Forecast
from planning.projection import cumulative, forward_cover, project


def test_projection_clamps_lost_sales_and_interpolates_run_out() -> None:
    # Stock 250 at 100/week, 300 arriving in week 4:
    # start 250 -> 150 -> 50 -> 0 (runs out in week 2: 50/100 of a week = day 17.5) -> 0 +300.
    forecast = np.full((1, 6), 100.0)
    arrivals = np.zeros((1, 6))
    arrivals[0, 4] = 300
    p = project(np.array([250.0]), arrivals, forecast)
    assert p.start_stock[0].tolist() == [250, 150, 50, 0, 0, 200, 100]
    assert p.run_out_day[0] == pytest.approx(17.5)


def test_no_run_out_within_horizon_is_nan() -> None:
    p = project(np.array([1000.0]), np.zeros((1, 4)), np.full((1, 4), 10.0))
    assert math.isnan(p.run_out_day[0])


def test_forward_cover_follows_a_seasonal_forecast() -> None:
    # 250 cartons against 100, 200, 50: week 0 (100), week 1 (200 more would be 300 > 250):
    # 1 + 150/200 = 1.75 weeks.
    forecast = np.array([[100.0, 200.0, 50.0, 50.0]])
    assert forward_cover(np.array([250.0]), forecast, 0)[0] == pytest.approx(1.75)
    # Beyond the horizon it extrapolates at the mean rate (100): 400 + 100 more = 4 + 1.
    assert forward_cover(np.array([500.0]), forecast, 0)[0] == pytest.approx(5.0)
    assert forward_cover(np.array([10.0]), np.zeros((1, 4)), 0)[0] == math.inf


def test_cumulative_with_fractional_weeks() -> None:
    forecast = np.array([[10.0, 20.0, 30.0, 40.0]])
    # From week 1: 20 + 30 + half of 40 = 70.
    assert cumulative(forecast, 1, np.array([2.5]))[0] == pytest.approx(70.0)


def test_a_shared_window_gives_the_same_numbers() -> None:
    # Forecast.window(offset) is computed once and handed to cumulative / forward_cover:
    # exactly what they compute on their own.
    rng = np.random.default_rng(5)
    weekly = rng.lognormal(1.0, 1.5, (50, 40)) * (rng.random((50, 40)) < 0.6)
    fc = Forecast(weekly=weekly, method=np.zeros(50, dtype=np.int64))
    weeks = rng.uniform(0, 45, 50)
    quantity = rng.uniform(-5, 400, 50)
    for offset in (0, 3, 39):
        window = fc.window(offset)
        assert fc.window(offset) is window
        assert (
            cumulative(weekly, offset, weeks, window).tobytes()
            == cumulative(weekly, offset, weeks).tobytes()
        )
        assert (
            forward_cover(quantity, weekly, offset, window).tobytes()
            == forward_cover(quantity, weekly, offset).tobytes()
        )
