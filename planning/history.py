"""Turn the ERP's lists (shipments, pipeline orders) into products x weeks arrays.

Weeks are counted back from `as_of`: history column T-1 is the 7 days ending the day
before `as_of`; future column h is the 7 days starting `as_of + 7h`. Shipments (a million
or more) are read as columns (`planning.rows`); pipeline orders, a few hundred, in a plain
loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from planning.models import PIPELINE_STATUSES, ErpOrder, Shipment
from planning.rows import DatedRows, FloatArray, IntArray, shipment_rows

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class History:
    """Weekly consumption (or, failing better sources, shipments) per product, oldest
    week first."""

    weekly: FloatArray  # (n, T)
    first_week: IntArray  # (n,) column of the first non-zero week; T when there is none
    source: IntArray | None = None  # (n,) `sources.Source` of the latest week; None: shipments
    source_weeks: IntArray | None = None  # (n,) weeks back that source reaches
    sold_out_floor: BoolArray | None = None
    """(n,) read from stock snapshots at twice what sold out (`sources._uncensored`)."""

    def with_source(self, source: IntArray, source_weeks: IntArray) -> History:
        return replace(self, source=source, source_weeks=source_weeks)

    @property
    def n_weeks(self) -> int:
        return int(self.weekly.shape[1])

    @property
    def history_weeks(self) -> IntArray:
        """Weeks since (and including) the first shipment; 0 for no history."""
        return np.asarray(self.n_weeks - self.first_week, dtype=np.int64)

    @classmethod
    def from_weekly(cls, weekly: npt.ArrayLike) -> History:
        matrix = np.asarray(weekly, dtype=np.float64)
        if matrix.ndim != 2:
            raise ValueError("weekly history must be a products x weeks matrix")
        nonzero = matrix > 0
        has_any = nonzero.any(axis=1)
        first = np.where(has_any, nonzero.argmax(axis=1), matrix.shape[1]).astype(np.int64)
        return cls(weekly=matrix, first_week=first)


def weekly_history(
    codes: Sequence[str], shipments: Sequence[Shipment], as_of: date, n_weeks: int
) -> tuple[History, int]:
    """`shipped_weeks` of shipment models."""
    return shipped_weeks(shipment_rows(codes, shipments), len(codes), as_of, n_weeks)


def shipped_weeks(shipped: DatedRows, n: int, as_of: date, n_weeks: int) -> tuple[History, int]:
    """Bucket shipments before `as_of` into `n_weeks` weekly columns.

    Returns the history and how many shipments named an unknown product (ignored).
    Shipments older than the window or on/after `as_of` are ignored silently: the first
    are out of scope, the second are not history yet.
    """
    row, quantity = shipped.row, shipped.quantity
    known = row >= 0
    age = as_of.toordinal() - shipped.day
    col = n_weeks - 1 - (age - 1) // 7
    keep = known & (age >= 1) & (col >= 0)
    flat = row[keep] * n_weeks + col[keep]
    weekly = np.bincount(flat, weights=quantity[keep], minlength=n * n_weeks)
    return History.from_weekly(weekly.reshape(n, n_weeks)), int(shipped.size - known.sum())


@dataclass
class Pipeline:
    """Cartons arriving per product per future week, with notes on data the engine fixed up."""

    arrivals: FloatArray  # (n, H)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> FloatArray:
        return np.asarray(self.arrivals.sum(axis=1), dtype=np.float64)


def pipeline_arrivals(
    codes: Sequence[str],
    orders: Sequence[ErpOrder],
    as_of: date,
    horizon: int,
    lead_time_weeks: float,
) -> Pipeline:
    """Spread approved / in-transit order lines over the week they are due.

    An order without an ETA is expected `lead_time_weeks` after it was placed; an overdue
    ETA is taken as arriving this week. Delivered and cancelled orders are ignored (their
    stock is already in, or never will be).
    """
    index = {code: i for i, code in enumerate(codes)}
    arrivals = np.zeros((len(codes), horizon), dtype=np.float64)
    warnings: list[str] = []
    for order in orders:
        if order.status not in PIPELINE_STATUSES:
            continue
        eta = order.eta
        if eta is None:
            eta = order.ordered_on + timedelta(weeks=lead_time_weeks)
            warnings.append(
                f"order {order.order_number} has no ETA; expected {eta.isoformat()} "
                f"({round(lead_time_weeks, 1):g} weeks after it was placed)"
            )
        if eta < as_of:
            warnings.append(
                f"order {order.order_number} is overdue (ETA {eta.isoformat()}); "
                "counted as arriving this week"
            )
        week = min(max((eta - as_of).days // 7, 0), horizon - 1)
        for line in order.lines:
            row = index.get(line.product_code)
            if row is None:
                warnings.append(
                    f"order {order.order_number} names unknown product {line.product_code}; "
                    "line ignored"
                )
                continue
            arrivals[row, week] += line.quantity
    return Pipeline(arrivals=arrivals, warnings=warnings)
