"""Following ERP orders to delivery: ask the ERP about one, and write what a Shipment
workflow decided into the read model (the order's row, its events, the audit log).

`track_orders` is how cycles started before shipments had workflows of their own followed
their orders; they still run it until they finish.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from core.errors import DependencyUnavailable, NotFound
from core.temporal import CUSTOMER_ID, ERP_CUSTOMER, ERP_ORDER_NUMBER, SHIPMENT_STATUS
from erp.client import ErpClient
from planning.models import ErpOrder
from planning.models import OrderStatus as ErpOrderStatus
from store import audit
from store import orders as orders_repo
from store.db import reading, unit_of_work
from store.models import Customer, Order, OrderEvent, OrderStatus
from workflows.contract import names
from workflows.contract.cycle import TrackedOrder, TrackRequest
from workflows.contract.shipment import (
    ErpOrderState,
    Observation,
    ShipmentChange,
    ShipmentCheck,
    ShipmentInput,
    ShipmentRecord,
    ShipmentStart,
    ShipmentStatus,
)

ERP_TO_ORDER_STATUS = {
    ErpOrderStatus.APPROVED: OrderStatus.SUBMITTED,
    ErpOrderStatus.IN_TRANSIT: OrderStatus.IN_TRANSIT,
    ErpOrderStatus.DELIVERED: OrderStatus.DELIVERED,
    ErpOrderStatus.CANCELLED: OrderStatus.CANCELLED,
}
OBSERVED: dict[ErpOrderStatus, ErpOrderState] = {
    ErpOrderStatus.APPROVED: "submitted",
    ErpOrderStatus.IN_TRANSIT: "in_transit",
    ErpOrderStatus.DELIVERED: "delivered",
    ErpOrderStatus.CANCELLED: "cancelled",
}
ORDER_STATUS_OF: dict[ErpOrderState, OrderStatus] = {
    "submitted": OrderStatus.SUBMITTED,
    "in_transit": OrderStatus.IN_TRANSIT,
    "delivered": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
}
# Status moves are audited by `change_status`; these changes get an entry of their own.
AUDITED_CHANGES = {"eta_changed": "order.eta_changed", "late": "order.late"}


def observation(erp_order: ErpOrder) -> Observation:
    return Observation(
        status=OBSERVED[erp_order.status],
        eta=erp_order.eta,
        delivered_on=erp_order.delivered_on,
    )


async def check_shipment(
    sessions: async_sessionmaker[AsyncSession], erp: ErpClient, check: ShipmentCheck
) -> Observation:
    """What the ERP says of the order now (a read; nothing is written)."""
    async with reading(sessions) as session:
        order = await orders_repo.get_order(session, check.customer_id, check.order_id)
        customer = await session.get(Customer, check.customer_id)
        if order is None or customer is None or not order.erp_order_number:
            raise NotFound(f"order {check.order_id} has no ERP order to follow")
        erp_code, number = customer.erp_code, order.erp_order_number
    return observation(await erp.get_order(erp_code, number))


async def record_shipment(
    sessions: async_sessionmaker[AsyncSession], record: ShipmentRecord
) -> None:
    """The shipment's state on its order's row, one event per change, and the audit log.
    Idempotent: a retried write adds no second event for the same change."""
    async with unit_of_work(sessions) as session:
        order = await orders_repo.get_order(session, record.customer_id, record.order_id)
        if order is None:
            raise NotFound(f"order {record.order_id} not found")
        order.shipment_status = record.status.value
        order.shipment_workflow_id = record.workflow_id
        order.shipment_checked_at = record.at or datetime.now(UTC)
        if order.promised_eta is None:
            order.promised_eta = record.promised_eta
        order.eta = record.eta or order.eta
        order.delivered_on = record.delivered_on or order.delivered_on
        order.late, order.late_reason = record.late, record.late_reason
        actor = f"shipment:{record.source}"
        for change in record.changes:
            await _add_event(session, order, change, record)
            action = AUDITED_CHANGES.get(change.kind)
            if action is not None:
                await audit.append(
                    session,
                    actor=actor,
                    action=action,
                    customer_id=order.customer_id,
                    target_type="order",
                    target_id=order.id,
                    details={
                        "erp_order_number": order.erp_order_number,
                        "detail": change.detail,
                        "eta_before": _iso(change.eta_before),
                        "eta_after": _iso(change.eta_after),
                    },
                )
        status = ORDER_STATUS_OF[record.erp_status]
        if orders_repo.moves_forward(OrderStatus(order.status), status):
            await orders_repo.change_status(
                session,
                order,
                status,
                actor=actor,
                note=record.changes[-1].detail if record.changes else None,
                details={"erp_order_number": order.erp_order_number},
            )


async def _add_event(
    session: AsyncSession, order: Order, change: ShipmentChange, record: ShipmentRecord
) -> None:
    same = await session.scalar(
        select(OrderEvent.id).where(
            OrderEvent.order_id == order.id,
            OrderEvent.kind == change.kind,
            OrderEvent.detail == change.detail,
        )
    )
    if same is not None:
        return
    session.add(
        OrderEvent(
            order_id=order.id,
            kind=change.kind,
            at=record.at or datetime.now(UTC),
            detail=change.detail,
            eta_before=change.eta_before,
            eta_after=change.eta_after,
            source=record.source[:16],
        )
    )
    await session.flush()


def _iso(day: object) -> str | None:
    return None if day is None else str(day)


# --- cycles started before shipments had workflows --------------------------------------------


async def track_orders(
    sessions: async_sessionmaker[AsyncSession], erp: ErpClient, request: TrackRequest
) -> list[TrackedOrder]:
    async with reading(sessions) as session:
        customer = await session.get(Customer, request.customer_id)
        if customer is None:
            raise NotFound(f"customer {request.customer_id} not found")
        erp_code = customer.erp_code
        numbers = {}
        for order_id in request.order_ids:
            order = await orders_repo.get_order(session, request.customer_id, order_id)
            if order is not None and order.erp_order_number:
                numbers[order_id] = order.erp_order_number
    fetched = {order_id: await erp.get_order(erp_code, n) for order_id, n in numbers.items()}
    tracked: list[TrackedOrder] = []
    async with unit_of_work(sessions) as session:
        for order_id in request.order_ids:
            order = await orders_repo.get_order(session, request.customer_id, order_id)
            if order is None:
                continue
            erp_order = fetched.get(order_id)
            if erp_order is not None:
                order.eta = erp_order.eta
                order.delivered_on = erp_order.delivered_on
                await orders_repo.change_status(
                    session,
                    order,
                    ERP_TO_ORDER_STATUS[erp_order.status],
                    actor="erp:tracking",
                    details={"erp_order_number": order.erp_order_number},
                )
            tracked.append(
                TrackedOrder(
                    order_id=order.id,
                    erp_order_number=order.erp_order_number,
                    status=order.status,
                    eta=order.eta,
                    delivered_on=order.delivered_on,
                )
            )
    return tracked


# --- starting a shipment ----------------------------------------------------------------------


def shipment_attributes(shipment: ShipmentInput) -> TypedSearchAttributes:
    """What ops find a shipment by: the customer (ours and the ERP's code), its status and
    the ERP's order number."""
    pairs = [
        SearchAttributePair(CUSTOMER_ID, str(shipment.customer_id)),
        SearchAttributePair(SHIPMENT_STATUS, ShipmentStatus.AWAITING_SHIPMENT.value),
        SearchAttributePair(ERP_ORDER_NUMBER, shipment.erp_order_number),
    ]
    if shipment.erp_customer:
        pairs.append(SearchAttributePair(ERP_CUSTOMER, shipment.erp_customer))
    return TypedSearchAttributes(pairs)


async def start_shipment(client: Client, start: ShipmentStart, *, task_queue: str) -> bool:
    """Start the order's Shipment workflow, on its own (not a child: it outlives the cycle
    that placed the order). Idempotent: one that runs already is kept (the ERP's push may
    have started it); a finished one is never started again. True if this call started it."""
    shipment = start.shipment
    try:
        await client.start_workflow(
            names.SHIPMENT,
            shipment,
            id=start.workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            search_attributes=shipment_attributes(shipment),
            memo={"customer_name": shipment.customer_name, "order_id": shipment.order_id},
            static_summary=f"Shipment of {shipment.customer_name}'s order "
            f"{shipment.erp_order_number}",
        )
    except WorkflowAlreadyStartedError:
        return False
    except RPCError as err:
        raise DependencyUnavailable("temporal", err.message) from err
    return True
