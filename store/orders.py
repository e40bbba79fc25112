"""Orders and their status history. Every status change appends a history row."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, selectinload

from store import audit
from store.models import Order, OrderSource, OrderStatus, OrderStatusChange
from store.models.orders import OPEN_ORDER_STATUSES
from store.pagination import Page, PageRequest, paginate

# How far along an order is: the read model only ever moves an order forward.
ORDER_PROGRESS = {
    OrderStatus.APPROVED: 0,
    OrderStatus.SUBMITTED: 1,
    OrderStatus.IN_TRANSIT: 2,
    OrderStatus.DELIVERED: 3,
    OrderStatus.CANCELLED: 3,
    OrderStatus.FAILED: 3,
}


def moves_forward(current: OrderStatus, new: OrderStatus) -> bool:
    return ORDER_PROGRESS[new] > ORDER_PROGRESS[current]


async def get_order(session: AsyncSession, customer_id: int, order_id: int) -> Order | None:
    """An order with its history, only if it belongs to `customer_id`."""
    return await session.scalar(
        select(Order)
        .where(Order.id == order_id, Order.customer_id == customer_id)
        .options(selectinload(Order.history))
    )


async def get_orders(
    session: AsyncSession, customer_id: int, order_ids: list[int]
) -> dict[int, Order]:
    """The customer's orders among `order_ids`, by id, in one query (without their history)."""
    rows = await session.scalars(
        select(Order).where(Order.id.in_(order_ids), Order.customer_id == customer_id)
    )
    return {order.id: order for order in rows}


async def find_by_idempotency_key(session: AsyncSession, key: str) -> Order | None:
    return await session.scalar(select(Order).where(Order.idempotency_key == key))


async def list_orders(
    session: AsyncSession,
    customer_id: int,
    page: PageRequest,
    *,
    statuses: Sequence[str] = (),
    ordered_from: date | None = None,
    ordered_to: date | None = None,
    with_lines: bool = True,
) -> Page[Order]:
    """Newest first. `with_lines=False` leaves the line lists unloaded (an ERP order of a
    large customer has thousands): reading `lines` then raises."""
    stmt = select(Order).where(Order.customer_id == customer_id)
    if not with_lines:
        stmt = stmt.options(defer(Order.lines, raiseload=True))
    if statuses:
        stmt = stmt.where(Order.status.in_(list(statuses)))
    if ordered_from is not None:
        stmt = stmt.where(Order.ordered_on >= ordered_from)
    if ordered_to is not None:
        stmt = stmt.where(Order.ordered_on <= ordered_to)
    stmt = stmt.order_by(Order.ordered_on.desc(), Order.id.desc())
    return await paginate(session, stmt, page)


async def open_order_counts(session: AsyncSession, customer_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Order.status, func.count())
        .where(
            Order.customer_id == customer_id,
            Order.status.in_([s.value for s in OPEN_ORDER_STATUSES]),
        )
        .group_by(Order.status)
    )
    return {status: count for status, count in rows}


async def pipeline_orders(session: AsyncSession, customer_id: int) -> list[Order]:
    """Orders not yet delivered, failed or cancelled: their cartons are on the way."""
    return list(
        await session.scalars(
            select(Order)
            .where(
                Order.customer_id == customer_id,
                Order.status.in_([s.value for s in OPEN_ORDER_STATUSES]),
            )
            .order_by(Order.id)
        )
    )


async def create_order(
    session: AsyncSession,
    *,
    customer_id: int,
    status: OrderStatus,
    source: OrderSource,
    ordered_on: date,
    lines: list[dict[str, Any]],
    actor: str,
    idempotency_key: str | None = None,
    erp_order_number: str | None = None,
    recommendation_id: int | None = None,
    recommendation_version: int | None = None,
    eta: date | None = None,
    delivered_on: date | None = None,
    note: str | None = None,
    flush: bool = True,
    value: str | None = None,
    currency: str | None = None,
) -> Order:
    """A new order with its first status change; `flush=False` leaves the inserts to the
    next flush, so that several orders go to the database in one statement per table."""
    order = Order(
        customer_id=customer_id,
        status=status.value,
        source=source.value,
        ordered_on=ordered_on,
        lines=lines,
        cartons=sum(int(line["quantity"]) for line in lines),
        idempotency_key=idempotency_key,
        erp_order_number=erp_order_number,
        recommendation_id=recommendation_id,
        recommendation_version=recommendation_version,
        eta=eta,
        delivered_on=delivered_on,
        value=value,
        currency=currency,
    )
    order.history = [OrderStatusChange(status=status.value, actor=actor, note=note)]
    session.add(order)
    if flush:
        await session.flush()
    return order


async def set_status(
    session: AsyncSession,
    order: Order,
    status: OrderStatus,
    *,
    actor: str,
    note: str | None = None,
) -> bool:
    """Move `order` to `status`, appending history; False (nothing written) if already there."""
    if order.status == status.value:
        return False
    order.status = status.value
    session.add(OrderStatusChange(order_id=order.id, status=status.value, actor=actor, note=note))
    await session.flush()
    return True


async def change_status(
    session: AsyncSession,
    order: Order,
    status: OrderStatus,
    *,
    actor: str,
    note: str | None = None,
    action: str | None = None,
    details: dict[str, Any] | None = None,
    audit_unchanged: bool = False,
) -> bool:
    """`set_status` plus its audit entry (`order.<status>` unless `action` says otherwise),
    written only when the status moved unless `audit_unchanged`."""
    moved = await set_status(session, order, status, actor=actor, note=note)
    if moved or audit_unchanged:
        await audit.append(
            session,
            actor=actor,
            action=action or f"order.{status.value}",
            customer_id=order.customer_id,
            target_type="order",
            target_id=order.id,
            details=details,
        )
    return moved


class ErpOrderIndex:
    """Our orders an ERP listing names, by the reference we sent (idempotency key) or by the
    ERP's order number; where both match, the earliest order."""

    def __init__(self, orders: Iterable[Order] = ()) -> None:
        self._by_number: dict[str, Order] = {}
        self._by_key: dict[str, Order] = {}
        for order in orders:
            self.add(order)

    def add(self, order: Order) -> None:
        """Index `order` (again, after its number or key changed)."""
        for index, value in (
            (self._by_number, order.erp_order_number),
            (self._by_key, order.idempotency_key),
        ):
            if value is not None and (value not in index or order.id < index[value].id):
                index[value] = order

    def match(self, erp_order_number: str, reference: str | None) -> Order | None:
        found = [
            order
            for order in (
                self._by_number.get(erp_order_number),
                self._by_key.get(reference) if reference else None,
            )
            if order is not None
        ]
        return min(found, key=lambda order: order.id, default=None)


async def erp_order_index(
    session: AsyncSession, customer_id: int, numbers: Collection[str], references: Collection[str]
) -> ErpOrderIndex:
    """The customer's orders with any of these ERP order numbers or idempotency keys, in one
    query (a sync used to look each ERP order up on its own: a fifth of its CPU)."""
    conditions = []
    for column, values in (
        (Order.erp_order_number, numbers),
        (Order.idempotency_key, references),
    ):
        if values:
            conditions.append(column.in_(sorted(values)))
    if not conditions:
        return ErpOrderIndex()
    orders = await session.scalars(
        select(Order).where(Order.customer_id == customer_id, or_(*conditions)).order_by(Order.id)
    )
    return ErpOrderIndex(orders)


async def find_by_key_prefix(session: AsyncSession, customer_id: int, prefix: str) -> list[Order]:
    """The customer's orders whose idempotency key starts with `prefix` (one approval's orders)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(
        await session.scalars(
            select(Order)
            .where(
                Order.customer_id == customer_id,
                Order.idempotency_key.like(f"{escaped}%", escape="\\"),
            )
            .order_by(Order.id)
        )
    )


OPEN_SHIPMENT_STATUSES = ("awaiting_shipment", "in_transit", "late")


async def list_shipments(
    session: AsyncSession,
    page: PageRequest,
    *,
    customer_id: int | None = None,
    open_only: bool = True,
    late_only: bool = False,
) -> Page[Order]:
    """Orders a Shipment workflow follows: late first, then by ETA (lines left unloaded)."""
    stmt = (
        select(Order)
        .where(Order.shipment_workflow_id.is_not(None))
        .options(defer(Order.lines, raiseload=True))
    )
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if open_only:
        stmt = stmt.where(Order.shipment_status.in_(OPEN_SHIPMENT_STATUSES))
    if late_only:
        stmt = stmt.where(Order.late.is_(True))
    stmt = stmt.order_by(
        Order.late.desc(), Order.eta.asc().nulls_last(), Order.ordered_on, Order.id
    )
    return await paginate(session, stmt, page)


async def count_late_shipments(session: AsyncSession) -> int:
    total = await session.scalar(
        select(func.count()).where(
            Order.shipment_status.in_(OPEN_SHIPMENT_STATUSES), Order.late.is_(True)
        )
    )
    return int(total or 0)


async def delivered_orders(session: AsyncSession, customer_id: int, since: date) -> list[Order]:
    """Orders delivered, ordered on or after `since`: the lead times the customer had, and the
    cartons it received between two stock counts."""
    return list(
        await session.scalars(
            select(Order)
            .where(
                Order.customer_id == customer_id,
                Order.status == OrderStatus.DELIVERED.value,
                Order.delivered_on.is_not(None),
                Order.ordered_on >= since,
            )
            .order_by(Order.ordered_on, Order.id)
        )
    )


async def cancelled_orders(session: AsyncSession, customer_id: int, since: date) -> list[Order]:
    """Orders cancelled, ordered on or after `since`: a product never stocked whose last order
    this was gets that first lot again."""
    return list(
        await session.scalars(
            select(Order)
            .where(
                Order.customer_id == customer_id,
                Order.status == OrderStatus.CANCELLED.value,
                Order.ordered_on >= since,
            )
            .order_by(Order.ordered_on, Order.id)
        )
    )


async def approved_since(session: AsyncSession, customer_id: int, since: date) -> list[Order]:
    """Orders approved here from a recommendation, on or after `since`, not failed or
    cancelled (their shipments are in the history)."""
    return list(
        await session.scalars(
            select(Order)
            .where(
                Order.customer_id == customer_id,
                Order.source == OrderSource.RESTOCK.value,
                Order.recommendation_id.is_not(None),
                Order.ordered_on >= since,
                Order.status.not_in([OrderStatus.FAILED.value, OrderStatus.CANCELLED.value]),
            )
            .order_by(Order.ordered_on, Order.id)
        )
    )
