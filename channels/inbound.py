"""A buyer's message, whatever channel brought it: kept once, mapped to its user, read,
acted on and answered; the answer is returned for the channel to send.

Each message id is kept once: a redelivery gets the first answer again and acts no second
time. One that arrives before the first was answered (at once, or after a crash) is read
again: its decision carries an Update id made from the message id, so Temporal takes it
once and both get its outcome; an addition to the draft is not made again (it adds on
top). A number no user has gets a polite answer and nothing else. STOP and START opt the
user out of WhatsApp and back in (the one messenger with an opt-out flag today).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from channels.conversation import Conversation, Sender
from channels.intents import Intent, read
from core.messaging import InboundMessage
from core.settings import Settings
from services.accounts import grant_of, set_whatsapp_opt_out
from store import accounts as users_repo
from store import audit
from store import channels as messages_repo
from store.db import unit_of_work
from store.models import Role
from workflows.contract.cycle import Authority

UNKNOWN_NUMBER = (
    "Hello! This number is not linked to a Restock account, so I cannot help with orders "
    "from it. Ask your supplier to add it to your user."
)
OPTED_OUT = "You will get no more WhatsApp messages from Restock. Send START to hear from us again."
STILL_WORKING = "Still working on that message; reply STATUS in a minute to see your draft."
OPTED_IN = "Welcome back: Restock will message you here again. Send HELP for what you can ask."


async def answer(
    message: InboundMessage,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal: Callable[[], Awaitable[Client]],
) -> str:
    """The reply to `message` (empty: none), after doing what it asks."""
    sid, reading = message.message_id, read(message.body)
    async with unit_of_work(sessions) as session:
        first = await messages_repo.claim(
            session,
            sid,
            channel=message.channel,
            from_number=f"{message.channel}:{message.from_number}",
            body=message.body,
        )
        kept = None if first else await messages_repo.get(session, sid)
        if kept is not None and kept.reply is not None:
            return kept.reply  # answered before: the same answer, nothing done again
        if not first and reading.intent in (Intent.ADD, Intent.CHOICE):
            return STILL_WORKING  # the first delivery adds the cartons (they go on top)
        user = await users_repo.find_by_phone(session, message.from_number)
        if (
            user is None
            or user.disabled
            or user.role != Role.CUSTOMER.value
            or user.customer_id is None
        ):
            await messages_repo.answered(
                session, sid, reply=UNKNOWN_NUMBER, intent=None, user_id=None, customer_id=None
            )
            return UNKNOWN_NUMBER
        if reading.intent in (Intent.STOP, Intent.START):
            stop = reading.intent is Intent.STOP
            await set_whatsapp_opt_out(session, user, stop, actor=f"user:{user.username}")
            reply = OPTED_OUT if stop else OPTED_IN
            await messages_repo.answered(
                session,
                sid,
                reply=reply,
                intent=reading.intent.value,
                user_id=user.id,
                customer_id=user.customer_id,
            )
            return reply
        grant = grant_of(user)
        sender = Sender(
            username=user.username,
            customer_id=user.customer_id,
            authority=Authority(role=grant.customer_role.value, limit=grant.approval_limit),
            user_id=user.id,
        )

    conversation = Conversation(
        client=await temporal(),
        rpc_timeout=timedelta(seconds=settings.temporal_rpc_timeout_seconds),
        public_url=settings.public_url,
        sessions=sessions,
    )
    said = await conversation.answer(sender, reading, sid)
    async with unit_of_work(sessions) as session:
        await messages_repo.answered(
            session,
            sid,
            reply=said.text,
            intent=reading.intent.value,
            user_id=sender.user_id,
            customer_id=sender.customer_id,
        )
        await audit.append(
            session,
            actor=sender.actor,
            user_id=sender.user_id,
            action="channel.message",
            customer_id=sender.customer_id,
            target_type="recommendation" if said.version else None,
            target_id=None if said.version is None else f"v{said.version}",
            details={
                "channel": message.channel,
                "message_sid": sid,
                "reading": reading.label(),
                "outcome": said.outcome,
            },
        )
    return said.text
