"""Messages that reached Restock through a messaging channel (WhatsApp through Twilio)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
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
