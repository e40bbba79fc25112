"""A product never stocked whose last order was cancelled: that order's quantity, again.

With no stock, no shipments and no consumption a product has no history, so the forecast asks
for nothing and the plan shows it as "no history" for ever, out of stock while its customers
ask for it. When the customer's last order for it was cancelled (by the supplier, or lost on
the way) that order is the one figure there is of what the customer wanted: the engine orders
the same first lot again, once nothing is on order and nothing in stock. From then on its
shipments and stock counts are its history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np

from planning.history import IntArray
from planning.models import ErpOrder, OrderStatus


def cancelled_first_lots(codes: Sequence[str], orders: Iterable[ErpOrder]) -> IntArray:
    """Per product (in `codes` order): the quantity of its latest order if that order was
    cancelled, else 0. On the same day an order that stands wins over a cancelled one."""
    index = {code: i for i, code in enumerate(codes)}
    latest: dict[int, tuple[date, bool, int]] = {}
    for order in orders:
        stands = order.status is not OrderStatus.CANCELLED
        for line in order.lines:
            i = index.get(line.product_code)
            if i is None:
                continue
            seen = latest.get(i)
            if seen is None or (order.ordered_on, stands) >= seen[:2]:
                latest[i] = (order.ordered_on, stands, line.quantity)
    lots = np.zeros(len(codes), dtype=np.int64)
    for i, (_, stands, quantity) in latest.items():
        if not stands:
            lots[i] = quantity
    return lots
