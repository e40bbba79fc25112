"""One product's history and outlook, for the product page and its API route.

The projection is the planning engine's arithmetic in its simplest form — stock on hand plus
the open pipeline, less the stored weekly forecast — so a buyer can see when the line crosses
the target; the recommendation's explanation carries the exact figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.customer_settings import plan_settings
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


def weekly_shipments(
    shipments: list[list[int]], as_of: date, weeks: int = HISTORY_WEEKS
) -> list[WeekValue]:
    """Cartons shipped per week for the `weeks` weeks before `as_of`, oldest first, in the
    planning engine's weeks (`planning.history`: counted back from `as_of`, so the last is
    the 7 days before it); each week is labelled with its first day."""
    totals = [0] * weeks
    end = as_of.toordinal()
    for ordinal, cartons in shipments:
        age = end - ordinal  # 1..7: the last week
        if 1 <= age <= 7 * weeks:
            totals[weeks - 1 - (age - 1) // 7] += cartons
    first = as_of - timedelta(weeks=weeks)
    return [WeekValue(first + timedelta(weeks=i), totals[i]) for i in range(weeks)]


def projected_stock(product: SnapshotProduct, as_of: date) -> list[WeekValue]:
    """Stock at the start of each forecast week (the engine's weeks, from `as_of`): on hand +
    pipeline - forecast so far, never below zero (demand beyond the stock is lost or
    back-ordered, not negative stock). The pipeline counts from the start: an approximation
    of the engine's projection, which books each open order in its arrival week."""
    stock = max(product.stock_on_hand or 0, 0) + product.pipeline
    points = [WeekValue(as_of, stock)]
    for i, demand in enumerate(product.forecast or []):
        stock = max(stock - round(demand), 0)
        points.append(WeekValue(as_of + timedelta(weeks=i + 1), stock))
    return points


def outlook(product: SnapshotProduct, settings: CustomerSettings, as_of: date) -> ProductOutlook:
    weeks = plan_settings(settings).target_weeks_for(product.code)
    forecast = product.weekly_forecast
    return ProductOutlook(
        weekly_shipments=weekly_shipments(product.shipments or [], as_of),
        projected_stock=projected_stock(product, as_of),
        target_weeks=weeks,
        target_cartons=None if forecast is None else round(weeks * forecast),
    )
