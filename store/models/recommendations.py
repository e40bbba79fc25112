"""Versioned recommendations: containers and lines, with each line's explanation."""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, utcnow


class RecommendationStatus(StrEnum):
    CURRENT = "current"  # the one awaiting a decision
    SUPERSEDED = "superseded"  # replaced by a newer version before a decision
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class RecommendationRecord(Base):
    __tablename__ = "recommendations"
    __table_args__ = (
        UniqueConstraint("customer_id", "version", name="uq_recommendations_customer_version"),
        Index("ix_recommendations_customer_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=RecommendationStatus.CURRENT.value)
    as_of: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean)
    container_count: Mapped[int] = mapped_column(Integer)
    urgent_container_count: Mapped[int] = mapped_column(Integer)
    cartons: Mapped[int] = mapped_column(Integer)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    input_fingerprint: Mapped[str] = mapped_column(
        String(64), doc="Hash of snapshot, pipeline and settings: same input, same version"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(160), nullable=True)

    containers: Mapped[list[RecommendationContainer]] = relationship(
        order_by="RecommendationContainer.index",
        cascade="all, delete-orphan",
        lazy="raise",
    )
    lines: Mapped[list[RecommendationLine]] = relationship(
        order_by="RecommendationLine.position",
        cascade="all, delete-orphan",
        lazy="raise",
    )


class RecommendationContainer(Base):
    __tablename__ = "recommendation_containers"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    index: Mapped[int] = mapped_column(Integer)
    cartons: Mapped[int] = mapped_column(Integer)
    fill_pct: Mapped[float] = mapped_column(Float)
    cartons_fill_pct: Mapped[float] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    weight_fill_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    volume_m3: Mapped[float | None] = mapped_column(Float, nullable=True)
    volume_fill_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    urgent: Mapped[bool] = mapped_column(Boolean)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    value: Mapped[str | None] = mapped_column(
        String(40), nullable=True, doc="Decimal text in the version's currency; NULL: no prices"
    )
    unpriced_lines: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RecommendationLine(Base):
    __tablename__ = "recommendation_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    product_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    packs: Mapped[int] = mapped_column(Integer)
    pack_size: Mapped[int] = mapped_column(Integer)
    moq: Mapped[int] = mapped_column(Integer)
    urgent: Mapped[bool] = mapped_column(Boolean)
    urgency_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    containers: Mapped[list[int]] = mapped_column(JSON, default=list)
    carton_weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    carton_volume_m3: Mapped[float | None] = mapped_column(Float, nullable=True)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    value: Mapped[str | None] = mapped_column(String(40), nullable=True, doc="Decimal text")


class RecommendationDraft(Base):
    """A buyer's edited quantity of one line, saved before the decision: another tab or
    session sees it, and the approval takes it."""

    __tablename__ = "recommendation_drafts"
    __table_args__ = (
        UniqueConstraint("recommendation_id", "product_code", name="uq_recommendation_drafts_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    product_code: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(160))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
