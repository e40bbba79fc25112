"""Shipments as people look at them: a customer's orders on their way (the orders page), and
every customer's, late first (the ops console and `GET /api/shipments`)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from core.temporal import temporal_ui_url
from store import orders as orders_repo
from store.models import Customer, Order
from store.pagination import Page, PageRequest


class ShipmentView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": 31,
                    "customer_id": 1,
                    "erp_order_number": "SO10040-000123",
                    "status": "late",
                    "late": True,
                    "late_reason": "ETA 2027-02-12 is past the promised 2027-02-02",
                    "ordered_on": "2026-11-23",
                    "promised_eta": "2027-02-02",
                    "eta": "2027-02-12",
                    "delivered_on": None,
                    "cartons": 89_640,
                    "checked_at": "2026-12-14T06:00:03Z",
                    "workflow_id": "shipment-1-SO10040-000123",
                }
            ]
        }
    )

    order_id: int
    customer_id: int
    erp_order_number: str | None
    status: str = Field(
        description="awaiting_shipment, in_transit, late, delivered, cancelled or failed"
    )
    late: bool
    late_reason: str | None
    ordered_on: date
    promised_eta: date | None = Field(description="The ETA the ERP gave when it took the order")
    eta: date | None = Field(description="The ERP's latest ETA")
    delivered_on: date | None
    cartons: int
    checked_at: datetime | None = Field(description="When its shipment last heard of it")
    workflow_id: str = Field(description="The Shipment workflow that follows it")


class OpsShipmentView(ShipmentView):
    customer_name: str
    temporal_ui_url: str


def shipment_view(order: Order) -> ShipmentView:
    return ShipmentView(
        order_id=order.id,
        customer_id=order.customer_id,
        erp_order_number=order.erp_order_number,
        status=order.shipment_status or "awaiting_shipment",
        late=order.late,
        late_reason=order.late_reason,
        ordered_on=order.ordered_on,
        promised_eta=order.promised_eta,
        eta=order.eta,
        delivered_on=order.delivered_on,
        cartons=order.cartons,
        checked_at=order.shipment_checked_at,
        workflow_id=order.shipment_workflow_id or "",
    )


async def customer_shipments(
    session: AsyncSession, customer_id: int, page: PageRequest, *, open_only: bool = True
) -> Page[ShipmentView]:
    rows = await orders_repo.list_shipments(
        session, page, customer_id=customer_id, open_only=open_only
    )
    return Page([shipment_view(o) for o in rows.items], rows.total, rows.page, rows.page_size)


async def all_shipments(
    session: AsyncSession,
    page: PageRequest,
    *,
    settings: Settings,
    customer_id: int | None = None,
    open_only: bool = True,
    late_only: bool = False,
) -> Page[OpsShipmentView]:
    """Every customer's shipments for ops, late first, each with its Temporal UI link."""
    rows = await orders_repo.list_shipments(
        session, page, customer_id=customer_id, open_only=open_only, late_only=late_only
    )
    names = {
        c.id: c.name
        for c in [await session.get(Customer, cid) for cid in {o.customer_id for o in rows.items}]
        if c is not None
    }
    items = [
        OpsShipmentView(
            **shipment_view(o).model_dump(),
            customer_name=names.get(o.customer_id, ""),
            temporal_ui_url=temporal_ui_url(settings, o.shipment_workflow_id or ""),
        )
        for o in rows.items
    ]
    return Page(items, rows.total, rows.page, rows.page_size)
