"""Users of the API and the login failures that throttle them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, TimestampMixin, utcnow


class Role(StrEnum):
    CUSTOMER = "customer"  # a buyer bound to one customer
    OPS = "ops"  # supplier operations: every customer


class CustomerRole(StrEnum):
    """What a customer's user may do with its recommendations (ops users have none: they may
    do everything)."""

    VIEWER = "viewer"  # reads
    BUYER = "buyer"  # edits and proposes; approves only within their approval limit
    APPROVER = "approver"  # approves within their approval limit (none: any value)


class NotifyBy(StrEnum):
    """How a customer user is told of the buyer's messages (ready, reminder, expired,
    submitted, late, delivered)."""

    BOTH = "both"
    EMAIL = "email"
    WHATSAPP = "whatsapp"


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'customer' AND customer_id IS NOT NULL) "
            "OR (role = 'ops' AND customer_id IS NULL)",
            name="role_matches_customer",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=True, index=True
    )
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    token_version: Mapped[int] = mapped_column(
        Integer, default=0, doc="Bumped on logout/disable: every older token stops working"
    )
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)
    customer_role: Mapped[str | None] = mapped_column(
        String(16), nullable=True, doc="CustomerRole of a customer user; None for ops"
    )
    approval_limit: Mapped[str | None] = mapped_column(
        String(40),
        nullable=True,
        doc="Decimal text, in the account's currency: the most this user approves at once "
        "(None: no limit)",
    )
    email: Mapped[str | None] = mapped_column(
        String(254), nullable=True, doc="Where proposals waiting for this approver are sent"
    )
    phone: Mapped[str | None] = mapped_column(
        String(32),
        nullable=True,
        unique=True,
        doc="E.164 WhatsApp number, set by ops once they verified it with the customer",
    )
    whatsapp_opted_out: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), doc="The user sent STOP"
    )
    notify_by: Mapped[str] = mapped_column(
        String(16),
        default=NotifyBy.BOTH.value,
        server_default=NotifyBy.BOTH.value,
        doc="NotifyBy: e-mail, WhatsApp or both (WhatsApp needs a number and no STOP)",
    )


class LoginFailure(Base):
    """One failed login, keyed by account (`user:<name>`) and by client (`ip:<addr>`)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class RevokedToken(Base):
    """A token ended by its session's logout before it expired (other sessions go on)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
