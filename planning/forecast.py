"""Weekly consumption forecasts over a products x weeks matrix, all products at once.

Every method is written as "the forecast made at origin o", where an origin is the number
of history columns observed (o = T is today). The recursive methods (SES, Croston/SBA,
TSB) are one pass over the columns with vector updates, recording their state at each
origin, so the rolling-origin backtest of `auto` costs one pass per method, not one per
origin.

Methods:
- trailing_average: mean of the last N weeks (weeks before the first shipment excluded).
- ses: simple exponential smoothing of weekly quantities.
- seasonal: a 52-week multiplicative index (ratio to each year's mean, averaged over the
  full years in history, smoothed over 5 weeks) times a deseasonalised trailing level.
  Needs two full years of history.
- croston_sba: Croston's size / interval smoothing with the Syntetos-Boylan bias correction
  (1 - alpha/2).
- tsb: Teunter-Syntetos-Babai: smooths the probability of demand every week, so it decays
  when demand stops (Croston never does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from planning.classify import NONE, SHORT, Classification
from planning.history import FloatArray, History, IntArray
from planning.projection import Window
from planning.settings import ForecastMethod, PlanSettings

# Method codes stored per product; METHOD_NAMES[code] is what explanations show.
TA, SES, SEASONAL, SBA, TSB, SHORT_MEAN, NO_FORECAST, ORACLE = range(8)
METHOD_NAMES: tuple[str, ...] = (
    "trailing_average",
    "ses",
    "seasonal",
    "croston_sba",
    "tsb",
    "short_history_mean",
    "none",
    "oracle",  # the backtest's perfect forecast (`plan_arrays(forecast_override=...)`)
)
_BY_SETTING = {
    ForecastMethod.TRAILING_AVERAGE: TA,
    ForecastMethod.SES: SES,
    ForecastMethod.SEASONAL: SEASONAL,
    ForecastMethod.CROSTON_SBA: SBA,
    ForecastMethod.TSB: TSB,
}
SEASON = 52
SEASONAL_MIN_WEEKS = 2 * SEASON
INIT_WEEKS = 26  # the initialisation sample of the recursive methods
ORIGIN_SPACING = 4


@dataclass(frozen=True)
class Forecast:
    weekly: FloatArray  # (n, horizon) forecast cartons for each future week
    method: IntArray  # (n,) method code
    error: FloatArray | None = None
    """(n,) the method's rolling-origin mean absolute error of cumulative demand over
    `selection_horizon_weeks` (NaN where no origin could test it); None: not measured."""
    _windows: dict[int, Window] = field(default_factory=dict, repr=False, compare=False)

    def window(self, offset: int) -> Window:
        """`Window.of(self.weekly, offset)`, built once per offset (`weekly` is not changed
        after the forecast is made)."""
        if offset not in self._windows:
            self._windows[offset] = Window.of(self.weekly, offset)
        return self._windows[offset]


# --- helpers -----------------------------------------------------------------------------


def _window_mask(first: IntArray, n_weeks: int, length: int) -> npt.NDArray[np.bool_]:
    cols = np.arange(n_weeks)[None, :]
    return (cols >= first[:, None]) & (cols < first[:, None] + length)


def _initial_stats(y: FloatArray, first: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean, mean non-zero size and demand probability over the first INIT_WEEKS weeks."""
    t = y.shape[1]
    mask = _window_mask(first, t, INIT_WEEKS)
    weeks = np.maximum(np.minimum(t - first, INIT_WEEKS), 1)  # weeks in the window, >= 1
    total = np.where(mask, y, 0.0).sum(axis=1)
    count = np.count_nonzero(mask & (y > 0), axis=1)
    mean = total / weeks
    size = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    prob = count / weeks
    return mean, size, prob


# --- methods, evaluated at origins -------------------------------------------------------


def trailing_average(y: FloatArray, first: IntArray, n: int, origins: Sequence[int]) -> FloatArray:
    """(products, origins): mean of the last `n` weeks before each origin, since the first."""
    # Weeks before the first shipment are zero, so the plain window sum is the sum since
    # the first shipment; only the divisor needs the launch date.
    out = np.zeros((y.shape[0], len(origins)))
    for k, o in enumerate(origins):
        total = y[:, max(o - n, 0) : o].sum(axis=1)
        weeks = o - np.maximum(first, o - n)
        out[:, k] = np.where(weeks > 0, total / np.maximum(weeks, 1), 0.0)
    return out


@dataclass(frozen=True)
class _Start:
    """What the recursive methods start from: the initial statistics (`_initial_stats`) and
    the history week-major (each step reads one contiguous row)."""

    mean: FloatArray
    size: FloatArray
    prob: FloatArray
    weeks: FloatArray  # (T, n)

    @classmethod
    def of(cls, y: FloatArray, first: IntArray) -> _Start:
        mean, size, prob = _initial_stats(y, first)
        return cls(mean=mean, size=size, prob=prob, weeks=np.ascontiguousarray(y.T))


# The recursions below update their state in place: `np.copyto(x, new, where=mask)` is
# `x = np.where(mask, new, x)` without the temporaries, and `new` is computed with the same
# operations in the same order, so every value is bit for bit what the expression gives.


def ses(
    y: FloatArray,
    first: IntArray,
    alpha: float,
    origins: Sequence[int],
    start: _Start | None = None,
) -> FloatArray:
    start = start or _Start.of(y, first)
    level = start.mean.copy()
    wanted = {o: k for k, o in enumerate(origins)}
    out = np.zeros((y.shape[0], len(origins)))
    new = np.empty_like(level)
    active = np.empty(y.shape[0], dtype=bool)
    for t, week in enumerate(start.weeks):
        # level = where(first <= t, level + alpha * (week - level), level)
        np.less_equal(first, t, out=active)
        np.subtract(week, level, out=new)
        np.multiply(alpha, new, out=new)
        np.add(level, new, out=new)
        np.copyto(level, new, where=active)
        if t + 1 in wanted:
            out[:, wanted[t + 1]] = level
    return out


def croston_sba(
    y: FloatArray,
    first: IntArray,
    alpha: float,
    origins: Sequence[int],
    start: _Start | None = None,
) -> FloatArray:
    start = start or _Start.of(y, first)
    z = start.size.copy()
    p = np.where(start.prob > 0, 1.0 / np.maximum(start.prob, 1e-12), 1.0)
    q = np.zeros(y.shape[0])
    wanted = {o: k for k, o in enumerate(origins)}
    out = np.zeros((y.shape[0], len(origins)))
    factor = 1.0 - alpha / 2.0
    new = np.empty_like(z)
    active, demand, update = (np.empty(y.shape[0], dtype=bool) for _ in range(3))
    for t, week in enumerate(start.weeks):
        np.less_equal(first, t, out=active)
        np.greater(week, 0, out=demand)
        demand &= active  # demand = (week > 0) & (first <= t)
        np.add(q, 1, out=q, where=active)  # q = where(active, q + 1, q)
        np.less(first, t, out=update)
        update &= demand  # update = demand & (first < t)
        np.subtract(week, z, out=new)  # z = where(update, z + alpha * (week - z), z)
        np.multiply(alpha, new, out=new)
        np.add(z, new, out=new)
        np.copyto(z, new, where=update)
        np.subtract(q, p, out=new)  # p = where(update, p + alpha * (q - p), p)
        np.multiply(alpha, new, out=new)
        np.add(p, new, out=new)
        np.copyto(p, new, where=update)
        np.copyto(q, 0.0, where=demand)  # q = where(demand, 0.0, q)
        if t + 1 in wanted:
            out[:, wanted[t + 1]] = factor * z / p
    return out


def tsb(
    y: FloatArray,
    first: IntArray,
    alpha: float,
    beta: float,
    origins: Sequence[int],
    start: _Start | None = None,
) -> FloatArray:
    start = start or _Start.of(y, first)
    z = start.size.copy()
    d = start.prob.copy()
    wanted = {o: k for k, o in enumerate(origins)}
    out = np.zeros((y.shape[0], len(origins)))
    new = np.empty_like(z)
    update, demand = (np.empty(y.shape[0], dtype=bool) for _ in range(2))
    for t, week in enumerate(start.weeks):
        np.less(first, t, out=update)
        np.greater(week, 0, out=demand)
        np.subtract(demand, d, out=new)  # d = where(update, d + beta * (demand - d), d)
        np.multiply(beta, new, out=new)
        np.add(d, new, out=new)
        np.copyto(d, new, where=update)
        update &= demand  # z = where(update & demand, z + alpha * (week - z), z)
        np.subtract(week, z, out=new)
        np.multiply(alpha, new, out=new)
        np.add(z, new, out=new)
        np.copyto(z, new, where=update)
        if t + 1 in wanted:
            out[:, wanted[t + 1]] = d * z
    return out


def seasonal(
    y: FloatArray, first: IntArray, n: int, origin: int, horizon: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Forecast (products, horizon) made at `origin`, and which products it is valid for.

    Column c sits at season position (c - origin) mod 52, so future week h has position
    h mod 52 and the index lines up with the origin, whatever the calendar.
    """
    rows = y.shape[0]
    years = min(origin // SEASON, 3)
    if years < 2:
        return np.zeros((rows, horizon)), np.zeros(rows, dtype=bool)
    # Written to give exactly what the plain expressions in the comments give, with fewer
    # temporaries: the same elementwise operations in the same order, and every reduction
    # over an array of the same shape and layout (a reduction's summation order depends on
    # both).
    start = origin - years * SEASON
    blocks = y[:, start:origin].reshape(rows, years, SEASON)
    block_start = start + SEASON * np.arange(years)
    block_mean = blocks.mean(axis=2)
    valid = (block_start[None, :] >= first[:, None]) & (block_mean > 0)
    # ratios = where(valid, blocks / max(block_mean, 1e-12), 0)
    ratios = blocks / np.maximum(block_mean, 1e-12)[:, :, None]
    ratios[~valid] = 0.0
    n_valid = valid.sum(axis=1)
    index = ratios.sum(axis=1)
    index /= np.maximum(n_valid, 1)[:, None]
    # Smooth over five weeks (circular) so one odd week does not become a "season":
    # (p[0:52] + p[1:53] + p[2:54] + p[3:55] + p[4:56]) / 5 of the index padded circularly.
    padded = np.concatenate([index[:, -2:], index, index[:, :2]], axis=1)
    index = padded[:, 0:SEASON] + padded[:, 1 : SEASON + 1]
    for k in range(2, 5):
        index += padded[:, k : SEASON + k]
    index /= 5.0
    index_mean = index.mean(axis=1, keepdims=True)
    # The index relative to its mean, at the positions used: the recent weeks the level is
    # taken over and the future weeks (a horizon of a year or more uses every position).
    recent = np.arange(max(origin - n, 0), origin)
    recent_pos = (recent - origin) % SEASON
    future_pos = np.arange(horizon) % SEASON
    used = np.array(sorted({*recent_pos.tolist(), *future_pos.tolist()}), dtype=np.int64)
    at = np.searchsorted(used, np.arange(SEASON))  # column of each position within `used`
    relative = np.where(index_mean > 0, index[:, used] / np.maximum(index_mean, 1e-12), 1.0)
    eligible = (n_valid >= 2) & (origin - first >= SEASONAL_MIN_WEEKS)
    recent_y = y[:, recent].sum(axis=1)
    recent_index = relative[:, at[recent_pos]].sum(axis=1)
    level = np.where(recent_index > 0, recent_y / np.maximum(recent_index, 1e-12), 0.0)
    forecast = level[:, None] * relative[:, at[future_pos]]
    return forecast, eligible


# --- selection ---------------------------------------------------------------------------


def backtest_origins(n_weeks: int, settings: PlanSettings) -> list[int]:
    """Origins for the rolling-origin backtest, newest first, each leaving a full horizon."""
    last = n_weeks - settings.selection_horizon_weeks
    origins = [last - ORIGIN_SPACING * k for k in range(settings.selection_origins)]
    return [o for o in origins if o > 0]


def _flat_levels(
    method: int,
    y: FloatArray,
    first: IntArray,
    settings: PlanSettings,
    origins: Sequence[int],
    start: _Start | None = None,
) -> FloatArray:
    if method == TA:
        return trailing_average(y, first, settings.trailing_weeks, origins)
    if method == SES:
        return ses(y, first, settings.ses_alpha, origins, start)
    if method == SBA:
        return croston_sba(y, first, settings.intermittent_alpha, origins, start)
    if method == TSB:
        return tsb(y, first, settings.intermittent_alpha, settings.tsb_beta, origins, start)
    raise ValueError(f"method {METHOD_NAMES[method]} is not flat")


def _forecast_for(
    method: int, y: FloatArray, first: IntArray, settings: PlanSettings, horizon: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Today's forecast by one method for the given rows, and where it is valid."""
    t = y.shape[1]
    if method == SEASONAL:
        return seasonal(y, first, settings.trailing_weeks, t, horizon)
    level = _flat_levels(method, y, first, settings, [t])[:, 0]
    return _flat(level, horizon), np.ones(y.shape[0], dtype=bool)


def _flat(level: FloatArray, horizon: int) -> FloatArray:
    return np.repeat(level[:, None], horizon, axis=1)


class _Backtest:
    """The rolling-origin backtest of several methods on the same rows.

    What every method needs is computed once and shared: the actual demand after each
    origin and the recursive methods' starting point. A flat method's pass over the
    history also records its level today (`today`), so the chosen method's forecast needs
    no second pass. Every value is computed row by row exactly as a separate call would.
    """

    def __init__(self, y: FloatArray, first: IntArray, settings: PlanSettings) -> None:
        self.y, self.first, self.settings = y, first, settings
        self.origins = backtest_origins(y.shape[1], settings)
        h = settings.selection_horizon_weeks
        self.actual = [y[:, o : o + h].sum(axis=1) for o in self.origins]
        self.today: dict[int, FloatArray] = {}
        self._start: _Start | None = None

    def start(self) -> _Start:
        if self._start is None:
            self._start = _Start.of(self.y, self.first)
        return self._start

    def errors(self, method: int) -> FloatArray:
        """`backtest_errors` of one method."""
        y, first, settings, origins = self.y, self.first, self.settings, self.origins
        h = settings.selection_horizon_weeks
        rows = y.shape[0]
        if method != SEASONAL:
            start = self.start() if method in (SES, SBA, TSB) else None
            levels = _flat_levels(method, y, first, settings, [*origins, y.shape[1]], start)
            self.today[method] = levels[:, -1]
        if not origins:
            return np.full(rows, np.nan)
        errors = np.full((rows, len(origins)), np.nan)
        need = SEASONAL_MIN_WEEKS if method == SEASONAL else settings.min_history_weeks
        if method == SEASONAL:
            # Rows without two years before the newest origin have none before any origin:
            # their errors stay NaN, so only the others are forecast. Not a single one on
            # its own, though: numpy sums a one-row fancy-indexed matrix in another order
            # (pairwise, not row by row), which can change the last bit.
            tested = np.flatnonzero(origins[0] - first >= need)
            if tested.size:
                whole = tested.size == rows or tested.size < 2
                yt, ft = (y, first) if whole else (y[tested], first[tested])
                tested = np.arange(rows) if whole else tested
                for k, o in enumerate(origins):
                    fc, ok = seasonal(yt, ft, settings.trailing_weeks, o, h)
                    errors[tested, k] = np.where(
                        ok, np.abs(fc.sum(axis=1) - self.actual[k][tested]), np.nan
                    )
        else:
            for k in range(len(origins)):
                errors[:, k] = np.abs(levels[:, k] * h - self.actual[k])
        for k, o in enumerate(origins):
            errors[o - first < need, k] = np.nan
        with np.errstate(all="ignore"):
            counted = np.sum(~np.isnan(errors), axis=1)
            total = np.nansum(errors, axis=1)
        return np.where(counted > 0, total / np.maximum(counted, 1), np.nan)


def backtest_errors(
    method: int, y: FloatArray, first: IntArray, settings: PlanSettings
) -> FloatArray:
    """Mean absolute error of cumulative demand over the selection horizon, per product.

    Cumulative (not per-week) error is what matters for stock, and unlike per-week MAE it
    does not reward forecasting zero for intermittent demand. NaN where no origin has
    enough history before it for the method.
    """
    return _Backtest(y, first, settings).errors(method)


CANDIDATES_CONTINUOUS = (TA, SES, SEASONAL)
CANDIDATES_INTERMITTENT = (SBA, TSB)


def forecast(
    history: History, classes: Classification, settings: PlanSettings, horizon: int
) -> Forecast:
    """Forecast every product for `horizon` weeks with the configured method.

    Short history (fewer than `min_history_weeks` since the first shipment): the average
    since the first shipment, flat. No shipments: zero. In `auto` mode the remaining
    products pick, within the candidates for their pattern, the method with the lowest
    rolling-origin error (ties go to the simpler method: order of the candidate list).
    """
    y, first = history.weekly, history.first_week
    n, t = y.shape
    weekly = np.zeros((n, horizon))
    method = np.full(n, NO_FORECAST, dtype=np.int64)
    error = np.full(n, np.nan)

    short = classes.pattern == SHORT
    if short.any():
        weeks = np.maximum(t - first[short], 1)
        mean = y[short].sum(axis=1) / weeks
        weekly[short] = mean[:, None]
        method[short] = SHORT_MEAN
    regular = (classes.pattern != SHORT) & (classes.pattern != NONE)

    if settings.forecast_method is ForecastMethod.AUTO:
        intermittent = classes.is_intermittent()
        for rows, candidates in (
            (regular & ~intermittent, CANDIDATES_CONTINUOUS),
            (regular & intermittent, CANDIDATES_INTERMITTENT),
        ):
            _select(rows, candidates, y, first, settings, horizon, weekly, method, error)
        return Forecast(weekly=weekly, method=method, error=error)

    chosen = _BY_SETTING[settings.forecast_method]
    rows = np.flatnonzero(regular)
    if rows.size:
        fc, ok = _forecast_for(chosen, y[rows], first[rows], settings, horizon)
        weekly[rows] = fc
        method[rows] = chosen
        if not ok.all():  # seasonal without two years of history: SES instead
            fallback_rows = rows[~ok]
            fb, _ = _forecast_for(SES, y[fallback_rows], first[fallback_rows], settings, horizon)
            weekly[fallback_rows] = fb
            method[fallback_rows] = SES
    return Forecast(weekly=weekly, method=method)


def measured_error(fc: Forecast, history: History, settings: PlanSettings) -> FloatArray:
    """`fc.error`, measured now where the forecast did not (a fixed method, not `auto`)."""
    if fc.error is not None:
        return fc.error
    y, first = history.weekly, history.first_week
    out = np.full(y.shape[0], np.nan)
    for m in (TA, SES, SEASONAL, SBA, TSB):
        rows = np.flatnonzero(fc.method == m)
        if rows.size:
            out[rows] = backtest_errors(m, y[rows], first[rows], settings)
    return out


def _select(
    mask: npt.NDArray[np.bool_],
    candidates: Sequence[int],
    y: FloatArray,
    first: IntArray,
    settings: PlanSettings,
    horizon: int,
    weekly: FloatArray,
    method: IntArray,
    error: FloatArray,
) -> None:
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return
    ys, fs = y[rows], first[rows]
    backtest = _Backtest(ys, fs, settings)
    measured = np.stack([backtest.errors(m) for m in candidates], axis=1)
    # Products no origin could test fall back to the first (simplest) candidate.
    untested = np.isnan(measured).all(axis=1)
    errors = np.where(np.isnan(measured), np.inf, measured)
    errors[untested, 0] = 0.0
    best = np.argmin(errors, axis=1)  # argmin keeps the first of equal errors
    error[rows] = measured[np.arange(rows.size), best]
    for k, m in enumerate(candidates):
        chosen = best == k
        if not chosen.any():
            continue
        if m in backtest.today:  # a flat method: its level today came with its backtest
            fc = _flat(backtest.today[m][chosen], horizon)
        else:
            fc, _ = _forecast_for(m, ys[chosen], fs[chosen], settings, horizon)
        weekly[rows[chosen]] = fc
        method[rows[chosen]] = m
