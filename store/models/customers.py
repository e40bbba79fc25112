"""Customers (tenants) and the settings ops tune per customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, TimestampMixin, utcnow


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    erp_code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")

    settings: Mapped[CustomerSettings | None] = relationship(
        back_populates="customer", lazy="raise", uselist=False
    )


class CustomerSettings(Base):
    """How a customer is planned and how its cycles run. One row per customer.

    Units: weeks, cartons, kilograms, cubic metres, hours. The planning fields map onto
    `planning.settings.PlanSettings`; the cycle and approval fields are read by the workflow.
    """

    __tablename__ = "customer_settings"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    # planning
    target_soh_weeks: Mapped[float] = mapped_column(Float, default=8.0)
    target_soh_overrides: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    lead_time_weeks: Mapped[float] = mapped_column(Float, default=10.0)
    measure_lead_time: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    safety_stock_mode: Mapped[str] = mapped_column(String(32), default="weeks")
    safety_weeks: Mapped[float] = mapped_column(Float, default=2.0)
    service_level: Mapped[float] = mapped_column(Float, default=0.955)
    forecast_method: Mapped[str] = mapped_column(String(32), default="auto")
    container_capacity_cartons: Mapped[int] = mapped_column(Integer, default=90_000)
    container_max_weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    container_max_volume_m3: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_container: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    # cycle cadence, in the customer's time zone
    cycles_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cadence_weeks: Mapped[int] = mapped_column(Integer, default=1)
    cycle_weekday: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday
    cycle_hour: Mapped[int] = mapped_column(Integer, default=6)
    # approval policy
    approval_timeout_hours: Mapped[int] = mapped_column(Integer, default=72)
    reminder_hours: Mapped[int] = mapped_column(Integer, default=24)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    # grace period: urgent containers still waiting this long are approved by policy
    auto_approve_after_hours: Mapped[int] = mapped_column(Integer, default=24)
    auto_approve_max_cartons: Mapped[int | None] = mapped_column(Integer, nullable=True)
    auto_approve_max_containers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    auto_approve_max_value: Mapped[str | None] = mapped_column(
        String(40), nullable=True, doc="Decimal text, in the account's currency"
    )

    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)

    customer: Mapped[Customer] = relationship(back_populates="settings", lazy="raise")

    def values(self) -> dict[str, Any]:
        """The tunable fields as a plain dict (for audit diffs and schemas)."""
        skip = {"customer_id", "updated_at", "updated_by"}
        return {
            column.key: getattr(self, column.key)
            for column in self.__table__.columns
            if column.key not in skip
        }
