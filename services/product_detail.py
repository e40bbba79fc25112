"""One product's history and outlook, for the product page and its API route.

The projection is the planning engine's arithmetic in its simplest form — stock on hand plus
the open pipeline, less the stored weekly forecast — so a buyer can see when the line crosses
the target; the recommendation's explanation carries the exact figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from services.customer_settings import plan_settings
from store.models import CustomerSettings, Order, SnapshotProduct

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


def projected_stock(
    product: SnapshotProduct, as_of: date, arrivals: Sequence[Arrival] = ()
) -> list[WeekValue]:
    """Stock at the start of each forecast week (the engine's weeks, from `as_of`): on hand,
    less the forecast, plus each open order in the week it arrives; never below zero (demand
    beyond the stock is lost or back-ordered, not negative stock). Pipeline the orders do not
    account for (an ERP order without its lines here) counts from the start."""
    booked = sum(a.cartons for a in arrivals)
    stock = max(product.stock_on_hand or 0, 0) + max(product.pipeline - booked, 0)
    by_week: dict[int, int] = {}
    for a in arrivals:
        week = max((a.on - as_of).days // 7, 0)
        by_week[week] = by_week.get(week, 0) + a.cartons
    stock += by_week.get(0, 0)
    points = [WeekValue(as_of, stock)]
    for i, demand in enumerate(product.forecast or []):
        stock = max(stock - round(demand), 0) + by_week.get(i + 1, 0)
        points.append(WeekValue(as_of + timedelta(weeks=i + 1), stock))
    return points


@dataclass(frozen=True)
class Arrival:
    """An open order's cartons of one product, on the day they are expected."""

    on: date
    cartons: int
    order: str


def open_arrivals(
    orders: Sequence[Order], as_of: date, lead_time_weeks: float
) -> dict[str, list[Arrival]]:
    """Per product, its open orders' cartons on the day they are expected, earliest first:
    the ETA, else (approved, not yet at the ERP) one lead time after they were ordered. The
    product page and the worksheet's "next arrival" both read this."""
    by_code: dict[str, list[Arrival]] = {}
    for order in orders:
        on = max(order.eta or order.ordered_on + timedelta(days=round(lead_time_weeks * 7)), as_of)
        cartons: dict[str, int] = {}
        for line in order.lines:
            code = line["product_code"]
            cartons[code] = cartons.get(code, 0) + int(line["quantity"])
        for code, qty in cartons.items():
            if qty:
                by_code.setdefault(code, []).append(
                    Arrival(on, qty, order.erp_order_number or f"#{order.id}")
                )
    for arrivals in by_code.values():
        arrivals.sort(key=lambda a: a.on)
    return by_code


def outlook(
    product: SnapshotProduct,
    settings: CustomerSettings,
    as_of: date,
    arrivals: Sequence[Arrival] = (),
) -> ProductOutlook:
    weeks = plan_settings(settings).target_weeks_for(product.code)
    forecast = product.weekly_forecast
    return ProductOutlook(
        weekly_shipments=weekly_shipments(product.shipments or [], as_of),
        projected_stock=projected_stock(product, as_of, arrivals),
        target_weeks=weeks,
        target_cartons=None if forecast is None else round(weeks * forecast),
    )
