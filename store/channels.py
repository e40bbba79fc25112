"""Channel messages: inbound ones each kept once by their channel's id; outbound ones with
their delivery status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.base import dialect_insert, utcnow
from store.models import ChannelDelivery, ChannelMessage, User


async def claim(
    session: AsyncSession, message_sid: str, *, channel: str, from_number: str, body: str
) -> bool:
    """Keep a message seen for the first time; False when its id is already kept (a
    redelivery, or the same message arriving twice at once)."""
    stmt = (
        dialect_insert(session)(ChannelMessage)
        .values(
            message_sid=message_sid,
            channel=channel,
            from_number=from_number,
            body=body,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["message_sid"])
        .returning(ChannelMessage.id)
    )
    return (await session.execute(stmt)).scalar() is not None


async def get(session: AsyncSession, message_sid: str) -> ChannelMessage | None:
    return await session.scalar(
        select(ChannelMessage).where(ChannelMessage.message_sid == message_sid)
    )


async def answered(
    session: AsyncSession,
    message_sid: str,
    *,
    reply: str,
    intent: str | None,
    user_id: int | None,
    customer_id: int | None,
) -> None:
    await session.execute(
        update(ChannelMessage)
        .where(ChannelMessage.message_sid == message_sid)
        .values(reply=reply, intent=intent, user_id=user_id, customer_id=customer_id)
    )


async def last_answered(
    session: AsyncSession, user_id: int, *, before: str, since: datetime
) -> tuple[str | None, str] | None:
    """(intent, reply) of this user's latest answered message since `since`, other than
    `before`'s; None when there is none."""
    row = (
        await session.execute(
            select(ChannelMessage.intent, ChannelMessage.reply)
            .where(
                ChannelMessage.user_id == user_id,
                ChannelMessage.message_sid != before,
                ChannelMessage.reply.is_not(None),
                ChannelMessage.received_at >= since,
            )
            .order_by(ChannelMessage.received_at.desc(), ChannelMessage.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None or row[1] is None else (row[0], row[1])


# A later status never moves a message back: callbacks can arrive out of order.
_STATUS_RANK = {
    "accepted": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 4,
    "failed": 5,
    "undelivered": 5,
}
STATUSES = frozenset(_STATUS_RANK)
FAILED_STATUSES = frozenset({"failed", "undelivered"})


async def record_sent(session: AsyncSession, **fields: str | int | None) -> None:
    """Keep a message the provider accepted (`fields`: ChannelDelivery's columns); a retried
    send that got the same id keeps the first."""
    now = utcnow()
    await session.execute(
        dialect_insert(session)(ChannelDelivery)
        .values(**fields, status="queued", sent_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["message_sid"])
    )


async def report_status(
    session: AsyncSession, message_sid: str, status: str, error_code: int | None
) -> tuple[ChannelDelivery | None, bool]:
    """Apply a delivery status to the message (None: Restock sent no such message). True
    when this report is the one that turned it failed: a redelivered or late report acts
    no second time."""
    delivery = await session.scalar(
        select(ChannelDelivery).where(ChannelDelivery.message_sid == message_sid).with_for_update()
    )
    if delivery is None:
        return None, False
    if _STATUS_RANK[status] <= _STATUS_RANK.get(delivery.status, 0):
        return delivery, False
    delivery.status = status
    delivery.error_code = error_code
    delivery.updated_at = utcnow()
    await session.flush()
    return delivery, status in FAILED_STATUSES


async def recent_deliveries(
    session: AsyncSession, customer_id: int, *, limit: int
) -> list[tuple[ChannelDelivery, str | None]]:
    """The customer's latest sent messages, newest first, each with the username its number
    belongs to in this customer (None: no user of the customer has it now)."""
    rows = await session.execute(
        select(ChannelDelivery, User.username)
        .outerjoin(
            User,
            (User.phone == ChannelDelivery.to_number) & (User.customer_id == customer_id),
        )
        .where(ChannelDelivery.customer_id == customer_id)
        .order_by(ChannelDelivery.sent_at.desc(), ChannelDelivery.id.desc())
        .limit(limit)
    )
    return [(delivery, username) for delivery, username in rows]
