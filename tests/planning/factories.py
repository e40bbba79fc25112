"""Small builders for planning tests: products, weekly shipment and consumption histories,
pipeline orders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from planning.models import (
    ConsumptionReport,
    ErpOrder,
    OrderLine,
    OrderStatus,
    Product,
    Shipment,
)
from planning.schemas import PlanInput
from planning.settings import PlanSettings

AS_OF = date(2026, 1, 5)  # a Monday


def product(code: str = "A", **kw: Any) -> Product:
    fields: dict[str, Any] = {"name": f"Product {code}", "pack_size": 1, "stock_on_hand": 0}
    fields.update(kw)
    return Product(code=code, **fields)


def weekly_shipments(code: str, quantities: Sequence[float], as_of: date = AS_OF) -> list[Shipment]:
    """One shipment per week, oldest first; the last lands in the week before `as_of`."""
    n = len(quantities)
    return [
        Shipment(
            product_code=code,
            ship_date=as_of - timedelta(days=7 * (n - k)),
            quantity=int(q),
        )
        for k, q in enumerate(quantities)
        if q > 0
    ]


def weekly_consumption(
    code: str, quantities: Sequence[int], shift_days: int = 0
) -> list[ConsumptionReport]:
    """The ERP's weekly consumption reports, oldest first; the last covers the week before
    `AS_OF` (each `shift_days` later)."""
    n = len(quantities)
    return [
        ConsumptionReport(
            product_code=code,
            week_start=AS_OF - timedelta(days=7 * (n - k) - shift_days),
            quantity=q,
        )
        for k, q in enumerate(quantities)
    ]


def order(
    code: str,
    quantity: int,
    eta: date | None,
    status: OrderStatus = OrderStatus.APPROVED,
    number: str = "O-1",
) -> ErpOrder:
    return ErpOrder(
        order_number=number,
        status=status,
        ordered_on=AS_OF - timedelta(weeks=2),
        eta=eta,
        lines=[OrderLine(product_code=code, quantity=quantity)],
    )


def delivered(
    code: str, quantity: int, *, ordered_days_ago: int, delivered_days_ago: int, number: str
) -> ErpOrder:
    """A delivered order of one line: a lead-time sample and a receipt between snapshots."""
    return ErpOrder(
        order_number=number,
        status=OrderStatus.DELIVERED,
        ordered_on=AS_OF - timedelta(days=ordered_days_ago),
        delivered_on=AS_OF - timedelta(days=delivered_days_ago),
        lines=[OrderLine(product_code=code, quantity=quantity)],
    )


def plan_input(
    products: list[Product],
    shipments: list[Shipment] | None = None,
    pipeline: list[ErpOrder] | None = None,
    **settings: Any,
) -> PlanInput:
    return PlanInput(
        as_of=AS_OF,
        settings=PlanSettings(**settings),
        products=products,
        shipments=shipments or [],
        pipeline=pipeline or [],
    )
