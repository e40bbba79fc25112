"""One order as the buyer follows it: lines with names, where it came from, its history,
dates, and what went wrong in words; also as a CSV of its lines."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from services.erp_messages import explain_erp_failure
from store import orders as orders_repo
from store import snapshots
from store.models import Order


class OrderLineView(BaseModel):
    product_code: str
    name: str | None
    quantity: int
    unit_price: Decimal | None = None
    value: Decimal | None = None


class HistoryView(BaseModel):
    status: str
    at: datetime
    actor: str
    note: str | None


class OrderView(BaseModel):
    id: int
    status: str
    source: str
    erp_order_number: str | None
    recommendation_version: int | None
    ordered_on: date
    promised_eta: date | None
    eta: date | None
    delivered_on: date | None
    cartons: int
    value: Decimal | None = None
    currency: str | None = None
    lines: list[OrderLineView]
    history: list[HistoryView]
    failure_reason: str | None
    failure_explained: str | None


async def order_view(session: AsyncSession, customer_id: int, order_id: int) -> OrderView:
    """404 for another customer's order, as for one that does not exist."""
    order = await orders_repo.get_order(session, customer_id, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found", field="order_id")
    codes = [line["product_code"] for line in order.lines]
    names = await snapshots.product_names(session, customer_id, codes)
    return OrderView(
        id=order.id,
        status=order.status,
        source=order.source,
        erp_order_number=order.erp_order_number,
        recommendation_version=order.recommendation_version,
        ordered_on=order.ordered_on,
        promised_eta=order.promised_eta,
        eta=order.eta,
        delivered_on=order.delivered_on,
        cartons=order.cartons,
        value=amount(order.value),
        currency=order.currency,
        lines=line_views(order, names),
        history=[
            HistoryView(status=h.status, at=h.at, actor=h.actor, note=h.note) for h in order.history
        ],
        failure_reason=order.failure_reason,
        failure_explained=explain_erp_failure(order.failure_reason),
    )


def amount(text: Any) -> Decimal | None:
    """A stored amount (decimal text) as a Decimal."""
    return None if text is None else Decimal(str(text))


def line_views(order: Order, names: Mapping[str, str]) -> list[OrderLineView]:
    """The order's lines with their names, prices and values."""
    return [
        OrderLineView(
            product_code=line["product_code"],
            name=names.get(line["product_code"]),
            quantity=int(line["quantity"]),
            unit_price=amount(line.get("unit_price")),
            value=amount(line.get("value")),
        )
        for line in order.lines
    ]


def order_csv(order: OrderView) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    money = f" ({order.currency})" if order.currency else ""
    writer.writerow(
        [
            "ERP order",
            "Status",
            "Ordered",
            "ETA",
            "Product",
            "Name",
            "Cartons",
            f"Unit price{money}",
            f"Value{money}",
        ]
    )
    for line in order.lines:
        writer.writerow(
            [
                order.erp_order_number or "",
                order.status,
                order.ordered_on.isoformat(),
                order.eta.isoformat() if order.eta else "",
                line.product_code,
                line.name or "",
                line.quantity,
                "" if line.unit_price is None else line.unit_price,
                "" if line.value is None else line.value,
            ]
        )
    return out.getvalue().encode("utf-8-sig")
