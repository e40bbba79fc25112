"""Forecast methods on hand-checked series, and what `auto` picks for each pattern."""

from __future__ import annotations

import numpy as np
import pytest

from planning.classify import INTERMITTENT, LUMPY, classify
from planning.forecast import (
    METHOD_NAMES,
    SEASONAL,
    SES,
    SHORT_MEAN,
    TA,
    backtest_errors,
    croston_sba,
    forecast,
    seasonal,
    ses,
    trailing_average,
    tsb,
)
from planning.history import History
from planning.settings import PlanSettings


def _first(y: np.ndarray) -> np.ndarray:
    return History.from_weekly(y).first_week


def test_trailing_average_uses_last_n_weeks_since_first_shipment() -> None:
    # Row 0: last 4 of [1..8] = (5+6+7+8)/4 = 6.5. Row 1: launched 2 weeks ago (0,...,0,4,6):
    # the average is over the 2 weeks since launch, 5.0, not (4+6)/4.
    y = np.array([[1, 2, 3, 4, 5, 6, 7, 8], [0, 0, 0, 0, 0, 0, 4, 6]], dtype=float)
    out = trailing_average(y, _first(y), 4, [8, 6])
    assert out[:, 0].tolist() == [6.5, 5.0]
    assert out[0, 1] == pytest.approx((3 + 4 + 5 + 6) / 4)  # origin 6 sees columns 0..5


def test_ses_recursion_hand_checked() -> None:
    # Initial level = mean of the (up to 26) first weeks = (10+20+30)/3 = 20.
    # alpha 0.5: 20 -> 15 -> 17.5 -> 23.75.
    y = np.array([[10.0, 20.0, 30.0]])
    assert ses(y, _first(y), 0.5, [3])[0, 0] == pytest.approx(23.75)


def test_croston_sba_hand_checked() -> None:
    # Demand 6 every 3rd week from week 0 over 12 weeks: sizes 6, intervals 3.
    # Initial size 6, interval 12/4 = 3; updates keep them: forecast (1 - 0.1/2) x 6 / 3 = 1.9.
    y = np.zeros((1, 12))
    y[0, ::3] = 6
    assert croston_sba(y, _first(y), 0.1, [12])[0, 0] == pytest.approx(1.9)


def test_tsb_decays_when_demand_stops_and_croston_does_not() -> None:
    y = np.zeros((1, 60))
    y[0, :30:3] = 6
    first = _first(y)
    sba_level = croston_sba(y, first, 0.1, [60])[0, 0]
    tsb_level = tsb(y, first, 0.1, 0.1, [60])[0, 0]
    # Croston only updates on demand: still about 0.95 x 6 / 3 (the initial interval estimate
    # over the first 26 weeks is 26/9 = 2.9, so slightly above 1.9).
    assert sba_level == pytest.approx(1.9, rel=0.03)
    # TSB: probability 1/3 decays by 0.9 each of the 30 empty weeks: 6 x (1/3) x 0.9^30 ~ 0.085.
    assert tsb_level < 0.1


def _seasonal_series(n: int, weeks: int = 156, noise: float = 5.0, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    base = 100 + 60 * np.sin(2 * np.pi * t / 52)
    return np.maximum(base + rng.normal(0, noise, (n, weeks)), 0)


def test_seasonal_index_recovers_a_pure_season() -> None:
    y = _seasonal_series(1, noise=0.0)
    fc, ok = seasonal(y, _first(y), 12, 156, 8)
    truth = 100 + 60 * np.sin(2 * np.pi * np.arange(156, 164) / 52)
    assert ok[0]
    # The 5-week smoothing flattens the sine a little (by about 5% at most).
    assert np.max(np.abs(fc[0] - truth)) < 6


def test_seasonal_needs_two_years() -> None:
    y = _seasonal_series(1, weeks=90)
    _, ok = seasonal(y, _first(y), 12, 90, 8)
    assert not ok[0]


def test_seasonal_and_ses_beat_trailing_average_on_seasonal_series() -> None:
    y = _seasonal_series(20)
    settings = PlanSettings()
    first = _first(y)
    ta = backtest_errors(TA, y, first, settings).mean()
    seas = backtest_errors(SEASONAL, y, first, settings).mean()
    ses_err = backtest_errors(SES, y, first, settings).mean()
    assert seas < 0.5 * ta
    assert ses_err < ta  # SES reacts faster than a 12-week average to the season's slope


def test_auto_picks_seasonal_for_seasonal_and_intermittent_methods_for_intermittent() -> None:
    rng = np.random.default_rng(7)
    seasonal_rows = _seasonal_series(10)
    occurs = rng.random((10, 156)) < 0.2
    intermittent_rows = np.where(occurs, rng.integers(20, 40, (10, 156)), 0).astype(float)
    history = History.from_weekly(np.vstack([seasonal_rows, intermittent_rows]))
    settings = PlanSettings()
    classes = classify(history, settings.min_history_weeks)
    fc = forecast(history, classes, settings, 60)
    assert set(fc.method[:10].tolist()) == {SEASONAL}
    assert set(classes.pattern[10:].tolist()) <= {INTERMITTENT, LUMPY}
    names = {METHOD_NAMES[m] for m in fc.method[10:].tolist()}
    assert names <= {"croston_sba", "tsb"} and names


def test_short_history_rule_is_average_since_first_shipment() -> None:
    y = np.zeros((1, 52))
    y[0, -3:] = [30, 60, 90]  # 3 weeks since launch: 60/week
    history = History.from_weekly(y)
    settings = PlanSettings()
    fc = forecast(history, classify(history, settings.min_history_weeks), settings, 60)
    assert fc.weekly[0, 0] == pytest.approx(60.0)
    assert fc.method[0] == SHORT_MEAN


def test_fixed_seasonal_method_falls_back_to_ses_without_two_years() -> None:
    y = _seasonal_series(2, weeks=60)
    history = History.from_weekly(y)
    settings = PlanSettings(forecast_method="seasonal")
    fc = forecast(history, classify(history, settings.min_history_weeks), settings, 60)
    assert fc.method.tolist() == [SES, SES]


def test_auto_breaks_ties_towards_trailing_average() -> None:
    y = np.full((1, 100), 50.0)  # every method is exact: keep the simplest
    history = History.from_weekly(y)
    settings = PlanSettings()
    fc = forecast(history, classify(history, settings.min_history_weeks), settings, 60)
    assert fc.method[0] == TA and fc.weekly[0, 0] == pytest.approx(50.0)


@pytest.mark.parametrize("method", ["auto", "trailing_average", "ses", "seasonal", "tsb"])
def test_a_products_forecast_does_not_depend_on_the_others(method: str) -> None:
    # All products are forecast at once; in auto mode the backtest pass also gives today's
    # level, and seasonal is backtested only on products with two years of history. None of
    # it may make a product's numbers depend on which other products are planned with it:
    # subsets give bit-for-bit the same rows. (Of at least two products: numpy sums a
    # one-row matrix in another order.) Non-integer, sparse, late-starting series, so any
    # change in summation order would show.
    rng = np.random.default_rng(11)
    n = 60
    y = rng.lognormal(2.0, 1.2, (n, 156)) * (rng.random((n, 156)) < rng.uniform(0.2, 1, (n, 1)))
    launch = np.where(rng.random(n) < 0.4, rng.integers(0, 150, n), 0)
    y[np.arange(156)[None, :] < launch[:, None]] = 0.0
    settings = PlanSettings(forecast_method=method)

    def run(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        history = History.from_weekly(y[rows])
        fc = forecast(history, classify(history, settings.min_history_weeks), settings, 62)
        return fc.weekly, fc.method

    weekly, methods = run(np.arange(n))
    assert method != "auto" or len(set(methods.tolist()) & {TA, SES, SEASONAL}) >= 2
    for rows in (np.arange(0, n, 2), np.arange(1, n, 2), np.arange(0, n, 3), np.arange(9)):
        sub_weekly, sub_methods = run(rows)
        assert sub_methods.tolist() == methods[rows].tolist()
        assert sub_weekly.tobytes() == weekly[rows].tobytes()


def test_seasonal_backtest_error_does_not_depend_on_the_others() -> None:
    # Only products with two years of history are backtested for seasonal; with one such
    # product among newer ones it must still come out as in a batch (numpy sums one row on
    # its own in another order).
    rng = np.random.default_rng(3)
    y = rng.lognormal(2.0, 1.0, (6, 156))
    y[2:, :100] = 0.0  # products 2.. started 56 weeks ago
    settings = PlanSettings()
    errors = {}
    for rows in ([0, 2, 3, 4], [0, 1, 2, 3, 4], [0, 1]):
        sub = y[rows]
        errors[tuple(rows)] = backtest_errors(SEASONAL, sub, _first(sub), settings)[0]
    assert len({e.tobytes() for e in errors.values()}) == 1, errors
