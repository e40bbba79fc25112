"""The product page's projection books each open order in the week it arrives."""

from __future__ import annotations

from datetime import date

from services.product_detail import Arrival, projected_stock
from store.models import SnapshotProduct

AS_OF = date(2026, 12, 7)


def product(pipeline: int) -> SnapshotProduct:
    return SnapshotProduct(stock_on_hand=300, pipeline=pipeline, forecast=[100.0] * 6)


def test_orders_land_in_their_week_and_unbooked_pipeline_counts_from_the_start() -> None:
    arrivals = [Arrival(date(2026, 12, 24), 500, "SO-1")]  # 17 days: week 2
    stock = [p.cartons for p in projected_stock(product(500), AS_OF, arrivals)]
    assert stock == [300, 200, 600, 500, 400, 300, 200]
    # 200 cartons of pipeline no order accounts for: on hand from the start.
    stock = [p.cartons for p in projected_stock(product(700), AS_OF, arrivals)]
    assert stock == [500, 400, 800, 700, 600, 500, 400]


def test_stock_never_goes_negative_and_a_late_order_still_lands() -> None:
    arrivals = [Arrival(date(2027, 1, 4), 250, "SO-2")]  # 28 days: week 4
    stock = [p.cartons for p in projected_stock(product(250), AS_OF, arrivals)]
    assert stock == [300, 200, 100, 0, 250, 150, 50]
