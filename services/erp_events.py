"""Taking an ERP push: check its signature, find the order, hand the event to the order's
Shipment workflow (which updates at once), and keep the event id so that the same push
delivered twice changes nothing.

The order of steps makes a lost answer harmless: the event is signalled before its id is
stored, so an ERP that retries after a failure here signals again (the shipment ignores an
event id it has seen); a push whose id is stored was handed over.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import (
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from core.errors import DependencyUnavailable, NotFound
from core.settings import Settings
from erp.mapping import ErpMapping
from erp.models import ErpOrderEvent
from erp.webhooks import parse_event, verify
from services.shipments import OBSERVED, shipment_attributes
from store.db import reading, unit_of_work
from store.models import Customer, ErpEventReceipt, Order, OrderSource, OrderStatus
from workflows.contract import names
from workflows.contract.shipment import Observation, ShipmentInput

CLOSED = (OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value, OrderStatus.FAILED.value)


class EventReceipt(BaseModel):
    event_id: str
    order_number: str
    outcome: str = Field(
        description="applied: handed to the order's shipment; duplicate: this event was "
        "taken before, nothing changed; closed: the order is delivered or cancelled already; "
        "not_followed: an order placed in the ERP, not by Restock"
    )
    shipment_workflow_id: str | None = None


async def receive(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    mapping: ErpMapping,
    *,
    headers: Mapping[str, str],
    body: bytes,
    task_queue: str,
) -> EventReceipt:
    verify(
        settings.erp_webhook_secret,
        headers,
        body,
        now=time.time(),
        window_seconds=settings.erp_webhook_window_seconds,
    )
    event = parse_event(mapping, body)
    async with reading(sessions) as session:
        customer = await session.scalar(
            select(Customer).where(Customer.erp_code == event.customer_code)
        )
        order = (
            None
            if customer is None
            else await session.scalar(
                select(Order).where(
                    Order.customer_id == customer.id,
                    Order.erp_order_number == event.order_number,
                )
            )
        )
        if customer is None or order is None:
            raise NotFound(
                f"no order {event.order_number} of customer {event.customer_code}",
                field="ORDER_NO",
            )
        seen = await session.scalar(
            select(ErpEventReceipt.id).where(ErpEventReceipt.event_id == event.event_id)
        )
        shipment = ShipmentInput(
            customer_id=customer.id,
            customer_name=customer.name,
            erp_customer=customer.erp_code,
            order_id=order.id,
            erp_order_number=event.order_number,
            promised_eta=order.promised_eta or order.eta,
        )
        source, status = order.source, order.status
    receipt = EventReceipt(event_id=event.event_id, order_number=event.order_number, outcome="")
    if seen is not None:
        return receipt.model_copy(update={"outcome": "duplicate"})
    if source != OrderSource.RESTOCK.value:
        outcome = "not_followed"
    elif status in CLOSED:
        outcome = "closed"
    else:
        started = await _hand_over(client, shipment, event, task_queue=task_queue)
        outcome = "applied" if started else "closed"
        receipt.shipment_workflow_id = names.shipment_workflow_id(customer.id, event.order_number)
    if not await _keep(sessions, event, customer_id=customer.id, order_id=order.id, body=body):
        outcome = "duplicate"  # a concurrent delivery of the same push got there first
    return receipt.model_copy(update={"outcome": outcome})


async def _hand_over(
    client: Client, shipment: ShipmentInput, event: ErpOrderEvent, *, task_queue: str
) -> bool:
    """Signal the order's shipment, starting it if it is not running yet (the push can beat
    the cycle's own start); False if it finished already."""
    observation = Observation(
        status=OBSERVED[event.status],
        eta=event.eta,
        delivered_on=event.delivered_on,
        source="push",
        event_id=event.event_id,
        event_type=event.event_type,
    )
    workflow_id = names.shipment_workflow_id(shipment.customer_id, shipment.erp_order_number)
    try:
        await client.start_workflow(
            names.SHIPMENT,
            shipment,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            start_signal=names.ERP_EVENT,
            start_signal_args=[observation],
            search_attributes=shipment_attributes(shipment),
            memo={"customer_name": shipment.customer_name, "order_id": shipment.order_id},
        )
    except WorkflowAlreadyStartedError:
        return False
    except RPCError as err:
        raise DependencyUnavailable("temporal", err.message) from err
    return True


async def _keep(
    sessions: async_sessionmaker[AsyncSession],
    event: ErpOrderEvent,
    *,
    customer_id: int,
    order_id: int,
    body: bytes,
) -> bool:
    """Store the event id; False if it was stored already."""
    try:
        async with unit_of_work(sessions) as session:
            session.add(
                ErpEventReceipt(
                    event_id=event.event_id,
                    customer_id=customer_id,
                    order_id=order_id,
                    event_type=event.event_type,
                    payload={"body": body.decode("utf-8", errors="replace")},
                )
            )
    except IntegrityError:
        return False
    return True
