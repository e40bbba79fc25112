"""Messages through a messaging channel (WhatsApp through Twilio): those that reached
Restock, and those Restock sent with what the provider last said of their delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, utcnow


class ChannelMessage(Base):
    """One inbound message, kept by the channel's own id (Twilio's MessageSid) so that a
    redelivery is answered from here and acts no second time."""

    __tablename__ = "channel_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    from_number: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True, doc="None: still being handled")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelDelivery(Base):
    """One message Restock sent through a channel, kept by the provider's id with the latest
    delivery status its callbacks reported (queued, sent, delivered, read; failed or
    undelivered with an error code), so a message that never arrived is told, not lost."""

    __tablename__ = "channel_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    to_number: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, doc="The message's text as its workflow wrote it")
    workflow_id: Mapped[str] = mapped_column(String(255), doc="The workflow it is about")
    notification_id: Mapped[str] = mapped_column(String(255), doc="The workflow that sent it")
    email_fallback: Mapped[str | None] = mapped_column(
        String(320),
        nullable=True,
        doc="The address the message was not e-mailed to because it went here instead "
        "(a user told on WhatsApp only): it is e-mailed there if delivery fails",
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
