"""Orders and their status history.

An order is created when a recommendation is approved (source `restock`) or found in the
ERP during sync (source `erp`). Its status moves approved -> submitted -> in_transit ->
delivered, or ends failed / cancelled; every move appends an `OrderStatusChange`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, TimestampMixin, utcnow


class OrderStatus(StrEnum):
    APPROVED = "approved"
    SUBMITTED = "submitted"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_ORDER_STATUSES = (OrderStatus.APPROVED, OrderStatus.SUBMITTED, OrderStatus.IN_TRANSIT)


class OrderSource(StrEnum):
    RESTOCK = "restock"
    ERP = "erp"


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("customer_id", "erp_order_number", name="uq_orders_customer_erp_number"),
        Index("ix_orders_customer_status", "customer_id", "status"),
        Index("ix_orders_customer_ordered_on", "customer_id", "ordered_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16), default=OrderSource.RESTOCK.value)
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    erp_order_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="SET NULL"), nullable=True
    )
    recommendation_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ordered_on: Mapped[date] = mapped_column(Date)
    eta: Mapped[date | None] = mapped_column(Date, nullable=True)
    delivered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cartons: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON,
        default=list,
        doc='[{"product_code": str, "quantity": int, "unit_price": str, "value": str}, ...] '
        "(prices: ours, when the ERP has a price list)",
    )
    value: Mapped[str | None] = mapped_column(
        String(40), nullable=True, doc="Decimal text: its priced lines at approval; NULL: none"
    )
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    promised_eta: Mapped[date | None] = mapped_column(
        Date, nullable=True, doc="The ETA the ERP gave when it accepted the order"
    )
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    late_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    shipment_status: Mapped[str | None] = mapped_column(
        String(24),
        nullable=True,
        doc="What its Shipment workflow last recorded (awaiting_shipment, in_transit, late, "
        "delivered, cancelled, failed); NULL for orders no Shipment follows",
    )
    shipment_workflow_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    shipment_checked_at: Mapped[datetime | None] = mapped_column(nullable=True)

    history: Mapped[list[OrderStatusChange]] = relationship(
        order_by="OrderStatusChange.id", cascade="all, delete-orphan", lazy="raise"
    )


class OrderEvent(Base):
    """What happened to an order on its way: shipped, ETA changed, late, delivered,
    cancelled (written by its Shipment workflow)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[str] = mapped_column(Text)
    eta_before: Mapped[date | None] = mapped_column(Date, nullable=True)
    eta_after: Mapped[date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(16), doc="poll, push or calendar")


class ErpEventReceipt(Base):
    """An ERP push as received: the event id makes a second delivery change nothing."""

    __tablename__ = "erp_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(120), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), nullable=True, index=True
    )
    event_type: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class OrderStatusChange(Base):
    __tablename__ = "order_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(160))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
