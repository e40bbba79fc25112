"""Inbound channel messages, each kept once by its channel's id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.base import dialect_insert, utcnow
from store.models import ChannelMessage


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
