"""Paginated listings of the world's records in ERP format, cached until the world changes."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from datetime import date
from typing import Any

from erp.simulator.erp_format import (
    activity_rows,
    item_row,
    order_row,
    price_rows,
    shipment_row,
    ymd,
)
from erp.simulator.world import CustomerState, SimWorld
from planning.models import OrderStatus

MAX_PAGE_SIZE = 5_000
DEFAULT_PAGE_SIZE = 500

Filters = tuple[Any, ...]


def _items(state: CustomerState) -> list[dict[str, Any]]:
    stock = state.stock.tolist()
    return [item_row(p, s) for p, s in zip(state.products, stock, strict=True)]


def _shipments(
    state: CustomerState, since: date | None, until: date | None
) -> list[dict[str, Any]]:
    codes = state.codes
    dates: dict[date, str] = {}
    return [
        shipment_row(r, codes, dates)
        for r in state.shipments
        if (since is None or r.ship_on >= since) and (until is None or r.ship_on <= until)
    ]


def _activity(state: CustomerState, since: date | None, today: date) -> list[dict[str, Any]]:
    """Complete weeks starting on or after `since`, oldest first; in each, the products that
    consumed something or whose stock changed (the others consumed nothing that week)."""
    activity, codes = state.activity, state.codes
    rows: list[dict[str, Any]] = []
    for k in range(activity.first_week_from(since), activity.complete_weeks(today)):
        products = activity.active(k)
        rows += activity_rows(
            codes,
            activity.week_start_of(k),
            products.tolist(),
            activity.sold[k, products].tolist(),
            activity.on_hand[k + 1, products].tolist(),
        )
    return rows


def _orders(
    state: CustomerState, since: date | None, statuses: frozenset[OrderStatus] | None
) -> list[dict[str, Any]]:
    codes = state.codes
    return [
        order_row(r, codes)
        for r in state.orders.values()
        if (since is None or r.ordered_on >= since) and (statuses is None or r.status in statuses)
    ]


class Listings:
    def __init__(self, world: SimWorld, *, max_entries: int = 64) -> None:
        self.world = world
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._max = max_entries
        self._version = world.version

    def _cached(self, key: tuple[Any, ...], build: Any) -> Any:
        if self._version != self.world.version:  # stale listings would only take memory
            self._cache.clear()
            self._version = self.world.version
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        value = build()
        self._cache[key] = value
        while len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return value

    def rows(self, code: str, dataset: str, filters: Filters) -> list[dict[str, Any]]:
        world = self.world
        with world.lock:
            key = ("rows", world.version, code, dataset, filters)

            def build() -> list[dict[str, Any]]:
                state = world.customer(code)
                raw = state.raw_rows
                if dataset == "items":
                    return _items(state) + raw["items"]
                if dataset == "shipments":
                    return _shipments(state, *filters) + raw["shipments"]
                if dataset == "activity":
                    return _activity(state, filters[0], world.today) + raw["activity"]
                if dataset == "prices":
                    return price_rows(state.prices) + raw["prices"]
                if dataset == "open_orders":
                    return _orders(state, None, frozenset({OrderStatus.APPROVED}))
                return _orders(state, *filters) + raw["orders"]

            rows: list[dict[str, Any]] = self._cached(key, build)
            return rows

    def page(self, code: str, dataset: str, filters: Filters, page: int, size: int) -> bytes:
        world = self.world
        with world.lock:
            key = ("page", world.version, code, dataset, filters, page, size)

            def build() -> bytes:
                rows = self.rows(code, dataset, filters)
                start = (page - 1) * size
                envelope = {
                    "PAGE_NO": page,
                    "PAGE_SIZE": size,
                    "TOTAL_PAGES": max(1, math.ceil(len(rows) / size)),
                    "TOTAL_ROWS": len(rows),
                    "AS_OF_DT": ymd(world.today),
                    "ROWS": rows[start : start + size],
                }
                return json.dumps(envelope, separators=(",", ":")).encode()

            body: bytes = self._cached(key, build)
            return body
