"""The latest ERP snapshot per customer, with each product's plan from the latest recommendation.

Sync replaces the snapshot; recommend fills in the plan columns (status, forecast, cover,
run-out) so the portal can filter, sort and paginate products in SQL.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from store.base import Base, utcnow


class PlanStatus(StrEnum):
    """Mirrors `planning.schemas.PlanStatus`; `unplanned` until the first recommendation."""

    AT_RISK = "at_risk"
    REORDER = "reorder"
    HEALTHY = "healthy"
    NO_HISTORY = "no_history"
    STOCK_UNKNOWN = "stock_unknown"
    DISCONTINUED = "discontinued"
    SNOOZED = "snoozed"
    UNPLANNED = "unplanned"


class Snapshot(Base):
    __tablename__ = "snapshots"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    as_of: Mapped[date] = mapped_column(Date)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_quality: Mapped[dict[str, Any]] = mapped_column(JSON)
    product_count: Mapped[int] = mapped_column(Integer)
    shipment_count: Mapped[int] = mapped_column(Integer)
    order_count: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(
        String(64), doc="Hash of the synced content: unchanged data keeps the same fingerprint"
    )
    product_health: Mapped[dict[str, Any] | None] = mapped_column(
        JSON,
        nullable=True,
        doc="The dashboard's product summary, rewritten whenever products or their plans are "
        "written: {by_status, urgent, next_run_out}; NULL until then (read live instead)",
    )
    consumption_through: Mapped[date | None] = mapped_column(
        Date,
        nullable=True,
        doc="Start of the last week the ERP reported consumption for; NULL: it reports none",
    )


class SnapshotProduct(Base):
    __tablename__ = "snapshot_products"
    __table_args__ = (
        UniqueConstraint("customer_id", "code", name="uq_snapshot_products_customer_code"),
        Index("ix_snapshot_products_customer_status", "customer_id", "plan_status"),
        Index("ix_snapshot_products_customer_run_out", "customer_id", "run_out_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    search_text: Mapped[str] = mapped_column(
        String(400), doc="lower(code + ' ' + name), so search is case-insensitive on every backend"
    )
    pack_size: Mapped[int] = mapped_column(Integer)
    moq: Mapped[int] = mapped_column(Integer, default=0)
    product_status: Mapped[str] = mapped_column(String(16), default="active")
    carton_weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    carton_volume_m3: Mapped[float | None] = mapped_column(Float, nullable=True)
    stock_on_hand: Mapped[int | None] = mapped_column(Integer, nullable=True)
    shipments: Mapped[list[list[int]]] = deferred(
        mapped_column(
            JSON, nullable=False, default=list, doc="[[date ordinal, cartons], ...] oldest first"
        )
    )
    stock_counts: Mapped[list[list[int]] | None] = deferred(
        mapped_column(
            JSON,
            nullable=True,
            doc="[[date ordinal, stock on hand], ...] oldest first: the stock each sync read "
            "(the ERP's business date), for consumption between syncs",
        )
    )
    consumption: Mapped[list[list[int | None]] | None] = deferred(
        mapped_column(
            JSON,
            nullable=True,
            doc="[[week start ordinal, cartons consumed, stock at week end or null], ...] "
            "oldest first: the ERP's consumption reports (EDI 852), when it has them",
        )
    )
    prices: Mapped[list[list[Any]] | None] = deferred(
        mapped_column(
            JSON,
            nullable=True,
            doc='[[valid from ordinal, valid to ordinal or null, min quantity, "unit price", '
            '"currency"], ...]: its rows of the ERP\'s price list (services.prices); NULL: the '
            "ERP serves no price list",
        )
    )
    # --- from the latest plan -------------------------------------------------------------
    plan_status: Mapped[str] = mapped_column(String(16), default=PlanStatus.UNPLANNED.value)
    pattern: Mapped[str | None] = mapped_column(String(32), nullable=True)
    history_source: Mapped[str | None] = mapped_column(
        String(16),
        nullable=True,
        doc="erp_activity, snapshots or shipments: what it was forecast from",
    )
    method: Mapped[str | None] = mapped_column(String(32), nullable=True)
    weekly_forecast: Mapped[float | None] = mapped_column(Float, nullable=True)
    forecast: Mapped[list[float]] = mapped_column(JSON, default=list)
    pipeline: Mapped[int] = mapped_column(Integer, default=0)
    weeks_of_cover: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_out_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    ordered_quantity: Mapped[int] = mapped_column(Integer, default=0)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    risk: Mapped[str | None] = mapped_column(
        String(24), nullable=True, doc="services.risk.Risk; NULL until the first plan"
    )


class ProductSnooze(Base):
    """A product the buyer put off for some reviews: not ordered before `until`."""

    __tablename__ = "product_snoozes"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_code", name="uq_product_snoozes_product"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    product_code: Mapped[str] = mapped_column(String(64))
    until: Mapped[date] = mapped_column(Date)
    reviews: Mapped[int] = mapped_column(Integer)
    snoozed_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
