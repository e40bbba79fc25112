"""The order confirmation of one approval: its containers (one ERP order each) with their
ERP numbers, lines, prices and values, as a document to download and as the text of the
"order placed" message."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.money import show
from services.order_views import OrderLineView, amount, line_views
from services.ordering import container_index
from store import snapshots
from store.models import Customer, Order, OrderSource
from store.models.orders import OrderStatus

NOT_PLACED = frozenset({OrderStatus.FAILED.value, OrderStatus.CANCELLED.value})


class ConfirmedOrder(BaseModel):
    container: int
    erp_order_number: str | None
    status: str
    eta: date | None
    cartons: int
    value: Decimal | None
    lines: list[OrderLineView]


class Confirmation(BaseModel):
    customer: str
    erp_code: str
    version: int
    ordered_on: date
    currency: str | None
    orders: list[ConfirmedOrder]

    @property
    def placed(self) -> list[ConfirmedOrder]:
        """The orders the ERP took or may still take (not failed, not cancelled)."""
        return [o for o in self.orders if o.status not in NOT_PLACED]

    @property
    def cartons(self) -> int:
        return sum(o.cartons for o in self.placed)

    @property
    def value(self) -> Decimal | None:
        values = [o.value for o in self.placed if o.value is not None]
        return sum(values, Decimal(0)) if values else None


async def confirmation(session: AsyncSession, customer_id: int, version: int) -> Confirmation:
    """NotFound when the version has no orders (not approved, or another customer's)."""
    customer = await session.get(Customer, customer_id)
    orders = list(
        await session.scalars(
            select(Order)
            .where(
                Order.customer_id == customer_id,
                Order.source == OrderSource.RESTOCK.value,
                Order.recommendation_version == version,
            )
            .order_by(Order.id)
        )
    )
    if customer is None or not orders:
        raise NotFound(f"no orders of recommendation v{version}", field="version")
    codes = sorted({line["product_code"] for o in orders for line in o.lines})
    names = await snapshots.product_names(session, customer_id, codes)
    return Confirmation(
        customer=customer.name,
        erp_code=customer.erp_code,
        version=version,
        ordered_on=orders[0].ordered_on,
        currency=next((o.currency for o in orders if o.currency), None),
        orders=[
            ConfirmedOrder(
                container=_container(o),
                erp_order_number=o.erp_order_number,
                status=o.status,
                eta=o.promised_eta or o.eta,
                cartons=o.cartons,
                value=amount(o.value),
                lines=line_views(o, names),
            )
            for o in orders
        ],
    )


async def latest_of_workflow(
    session: AsyncSession, customer_id: int, workflow_id: str
) -> Confirmation | None:
    """The confirmation of the latest approval a cycle made (its orders' keys begin with
    the workflow id), or None."""
    version = await session.scalar(
        select(Order.recommendation_version)
        .where(
            Order.customer_id == customer_id,
            Order.idempotency_key.like(f"{workflow_id}:%"),
            Order.recommendation_version.is_not(None),
        )
        .order_by(Order.id.desc())
        .limit(1)
    )
    return None if version is None else await confirmation(session, customer_id, version)


def _money(amount: Decimal | None, currency: str | None) -> str:
    return "no price" if amount is None else show(amount, currency)


def _container(order: Order) -> int:
    """Its container in the approval, from its idempotency key; 0 for a key of another
    shape (an order a person created)."""
    try:
        return container_index(order.idempotency_key or "")
    except (IndexError, ValueError):
        return 0


def as_text(c: Confirmation) -> str:
    """The message's summary: one line per container, then the total."""
    placed = c.placed
    lines = [
        f"Container {o.container}: ERP order {o.erp_order_number or '(not yet numbered)'}, "
        f"{o.cartons:,} cartons, {_money(o.value, c.currency)}"
        + (f", expected {o.eta.isoformat()}" if o.eta else "")
        for o in placed
    ]
    total = f"Total: {c.cartons:,} cartons"
    if c.value is not None:
        total += f", {show(c.value, c.currency)}"
    refused = [o for o in c.orders if o not in placed]
    notes = [f"Container {o.container}: not placed ({o.status})" for o in refused]
    return "\n".join([*lines, total, *notes])


def as_rows(c: Confirmation) -> list[list[Any]]:
    """The document: a header block, then one row per line with its container's ERP order
    and status, each container's subtotal and the total of the orders placed."""
    money = f" ({c.currency})" if c.currency else ""
    rows: list[list[Any]] = [
        ["Order confirmation", f"{c.customer} ({c.erp_code})"],
        ["Recommendation", f"v{c.version}"],
        ["Ordered on", c.ordered_on.isoformat()],
        [],
        [
            "Container",
            "ERP order",
            "Expected",
            "Product",
            "Name",
            "Cartons",
            f"Price / carton{money}",
            f"Value{money}",
            "Status",
        ],
    ]
    for o in c.orders:
        eta = o.eta.isoformat() if o.eta else ""
        for line in o.lines:
            rows.append(
                [
                    o.container,
                    o.erp_order_number or "",
                    eta,
                    line.product_code,
                    line.name or "",
                    line.quantity,
                    line.unit_price,
                    line.value,
                    o.status,
                ]
            )
        rows.append(
            [
                o.container,
                o.erp_order_number or "",
                eta,
                "",
                f"Container {o.container}",
                o.cartons,
                None,
                o.value,
                o.status,
            ]
        )
    rows.append(["", "", "", "", "Total placed", c.cartons, None, c.value, ""])
    return rows
