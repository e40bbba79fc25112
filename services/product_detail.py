"""One product's history and outlook, for the product page and its API route.

The projection is the planning engine's arithmetic in its simplest form — stock on hand plus
the open pipeline, less the stored weekly forecast — so a buyer can see when the line crosses
the target; the recommendation's explanation carries the exact figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from store.models import CustomerSettings, SnapshotProduct

HISTORY_WEEKS = 52


@dataclass(frozen=True)
class WeekValue:
    week_start: date
    cartons: int


@dataclass(frozen=True)
class ProductOutlook:
    weekly_shipments: list[WeekValue]
    projected_stock: list[WeekValue]
    target_weeks: float
    target_cartons: int | None


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_shipments(
    shipments: list[list[int]], as_of: date, weeks: int = HISTORY_WEEKS
) -> list[WeekValue]:
    """Cartons shipped per week for the `weeks` weeks before `as_of` (empty weeks as 0)."""
    last = week_start(as_of) - timedelta(weeks=1)
    first = last - timedelta(weeks=weeks - 1)
    totals: dict[date, int] = defaultdict(int)
    for ordinal, cartons in shipments:
        week = week_start(date.fromordinal(ordinal))
        if first <= week <= last:
            totals[week] += cartons
    return [
        WeekValue(first + timedelta(weeks=i), totals[first + timedelta(weeks=i)])
        for i in range(weeks)
    ]


def projected_stock(product: SnapshotProduct, as_of: date) -> list[WeekValue]:
    """Stock at the start of each forecast week: on hand + pipeline - forecast so far, never
    below zero (demand beyond the stock is lost or back-ordered, not negative stock)."""
    stock = max(product.stock_on_hand or 0, 0) + product.pipeline
    start = week_start(as_of)
    points = [WeekValue(start, stock)]
    for i, demand in enumerate(product.forecast or []):
        stock = max(stock - round(demand), 0)
        points.append(WeekValue(start + timedelta(weeks=i + 1), stock))
    return points


def target_weeks(product: SnapshotProduct, settings: CustomerSettings) -> float:
    return float(settings.target_soh_overrides.get(product.code, settings.target_soh_weeks))


def outlook(product: SnapshotProduct, settings: CustomerSettings, as_of: date) -> ProductOutlook:
    weeks = target_weeks(product, settings)
    forecast = product.weekly_forecast
    return ProductOutlook(
        weekly_shipments=weekly_shipments(product.shipments or [], as_of),
        projected_stock=projected_stock(product, as_of),
        target_weeks=weeks,
        target_cartons=None if forecast is None else round(weeks * forecast),
    )
