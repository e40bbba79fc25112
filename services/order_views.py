"""One order as the buyer follows it: lines with names, where it came from, its history,
dates, and what went wrong in words; also as a CSV of its lines."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from services.erp_messages import explain_erp_failure
from store import orders as orders_repo
from store import snapshots


class OrderLineView(BaseModel):
    product_code: str
    name: str | None
    quantity: int


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
        lines=[
            OrderLineView(
                product_code=line["product_code"],
                name=names.get(line["product_code"]),
                quantity=int(line["quantity"]),
            )
            for line in order.lines
        ],
        history=[
            HistoryView(status=h.status, at=h.at, actor=h.actor, note=h.note) for h in order.history
        ],
        failure_reason=order.failure_reason,
        failure_explained=explain_erp_failure(order.failure_reason),
    )


def order_csv(order: OrderView) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ERP order", "Status", "Ordered", "ETA", "Product", "Name", "Cartons"])
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
            ]
        )
    return out.getvalue().encode("utf-8-sig")
