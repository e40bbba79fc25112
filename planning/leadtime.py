"""Lead time from the customer's order history: mean and spread of ordered -> delivered.

The settings' `lead_time_weeks` is the promise; deliveries say what it really is. With at
least `min_lead_time_orders` orders delivered in the last `lead_time_history_weeks`, the
plan uses their mean (projection, arrival date) and their standard deviation
(service-level safety stock); with fewer it falls back to the settings, spread 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from planning.models import ErpOrder, OrderStatus
from planning.settings import PlanSettings


class LeadTimeSource(StrEnum):
    MEASURED = "measured"
    SETTINGS = "settings"


@dataclass(frozen=True)
class LeadTime:
    weeks: float  # mean, ordered -> delivered
    sd_weeks: float
    orders: int  # deliveries measured (0 for the settings)
    source: LeadTimeSource

    @property
    def whole(self) -> int:
        """Whole weeks before the arrival week."""
        return math.floor(self.weeks + 1e-9)

    @property
    def frac(self) -> float:
        """How far into its week an order placed today arrives (0 <= frac < 1)."""
        return max(self.weeks - self.whole, 0.0)

    @classmethod
    def of_settings(cls, settings: PlanSettings) -> LeadTime:
        return cls(settings.lead_time_weeks, 0.0, 0, LeadTimeSource.SETTINGS)

    def describe(self) -> str:
        """E.g. "lead time 6.4 weeks, measured on 23 deliveries (spread 0.6)"."""
        if self.source is LeadTimeSource.SETTINGS:
            return f"lead time {self.weeks:g} weeks"
        return (
            f"lead time {self.weeks:.1f} weeks, measured on {self.orders} deliveries "
            f"(spread {self.sd_weeks:.1f})"
        )


def lead_time(orders: Sequence[ErpOrder], as_of: date, settings: PlanSettings) -> LeadTime:
    """The lead time to plan with: measured from delivered orders when there are enough."""
    if not settings.measure_lead_time:
        return LeadTime.of_settings(settings)
    since = as_of - timedelta(weeks=settings.lead_time_history_weeks)
    days = [
        (o.delivered_on - o.ordered_on).days
        for o in orders
        if o.status is OrderStatus.DELIVERED
        and o.delivered_on is not None
        and since <= o.delivered_on < as_of
        and o.delivered_on >= o.ordered_on
    ]
    return measured(days, settings)


def measured(days: Sequence[float], settings: PlanSettings) -> LeadTime:
    """Lead time from observed order-to-delivery durations in days (the backtest's path)."""
    if len(days) < settings.min_lead_time_orders:
        return LeadTime.of_settings(settings)
    n = len(days)
    mean = sum(days) / n
    var = sum((d - mean) ** 2 for d in days) / (n - 1) if n > 1 else 0.0
    weeks = min(mean / 7, 52.0)
    return LeadTime(weeks, math.sqrt(var) / 7, n, LeadTimeSource.MEASURED)
