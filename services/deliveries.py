"""What became of the messages Restock sent through a channel.

The provider accepts a message at once and says later whether it arrived (Twilio's status
callbacks: sent, delivered, read; failed or undelivered with an error code, e.g. 63016 for
free-form text outside WhatsApp's 24 hours, 63003 for a number not on WhatsApp). Each sent
message is kept with its status. A failure is audited, and a user told on WhatsApp only,
who was therefore not e-mailed, gets the message by e-mail instead: nothing is lost
because a phone could not be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store import accounts, audit, channels
from store.db import unit_of_work
from store.models import ChannelDelivery
from workflows.contract.notification import NotificationInput, NotificationStart, NotifyRequest

CHANNEL_NAMES = {"whatsapp": "WhatsApp", "sms": "SMS"}

# What Twilio's commonest WhatsApp delivery errors mean, in words for ops.
ERROR_MEANINGS = {
    63003: "number not on WhatsApp",
    63016: "free-form text outside the 24 hours (no approved template)",
    63024: "invalid recipient",
    63032: "the user's WhatsApp cannot take messages from businesses",
    63049: "held back by Meta",
}


def error_words(code: int | None) -> str:
    if code is None:
        return "no error code"
    meaning = ERROR_MEANINGS.get(code)
    return f"{code} ({meaning})" if meaning else f"error {code}"


async def record_sent(
    sessions: async_sessionmaker[AsyncSession],
    request: NotifyRequest,
    *,
    message_sid: str,
    channel: str,
    to_number: str,
    notification_id: str,
    replaces_email: bool,
) -> None:
    """Keep a message the provider accepted. `replaces_email`: its kind reaches the phone
    whenever it is sent, so a user told on WhatsApp only was left out of its e-mail (by the
    same rule, `accounts.whatsapp_only_emails`); that user's address is kept to fall back to."""
    async with unit_of_work(sessions) as session:
        fallback = (
            await accounts.whatsapp_only_email(session, request.customer_id, to_number)
            if replaces_email
            else None
        )
        await channels.record_sent(
            session,
            message_sid=message_sid,
            channel=channel,
            customer_id=request.customer_id,
            to_number=to_number,
            kind=request.kind,
            subject=request.subject,
            body=request.body,
            workflow_id=request.workflow_id,
            notification_id=notification_id,
            email_fallback=fallback,
        )


async def status_reported(
    sessions: async_sessionmaker[AsyncSession],
    *,
    message_sid: str,
    status: str,
    error_code: int | None,
) -> tuple[bool, NotificationStart | None]:
    """Apply a delivery status. (known, fallback): `known` is False for a message Restock did
    not send; `fallback` is the e-mail to start for a failed message its user was not
    e-mailed. It is returned for every report of the failure, not only the first, so a
    start that did not happen (Temporal down, the process gone) happens when the report
    comes again; its id (the sending workflow's plus `-email`) starts it once."""
    async with unit_of_work(sessions) as session:
        delivery, failed_now = await channels.report_status(
            session, message_sid, status, error_code
        )
        if delivery is None:
            return False, None
        if failed_now:
            await _audit_failure(session, delivery)
        if delivery.status not in channels.FAILED_STATUSES or delivery.email_fallback is None:
            return True, None
        return True, _email_instead(delivery, delivery.email_fallback)


async def _audit_failure(session: AsyncSession, delivery: ChannelDelivery) -> None:
    await audit.append(
        session,
        actor="notifier",
        action="notification.undelivered",
        customer_id=delivery.customer_id,
        target_type="workflow",
        target_id=delivery.workflow_id,
        details={
            "kind": delivery.kind,
            "subject": delivery.subject,
            "channel": delivery.channel,
            "message_sid": delivery.message_sid,
            "status": delivery.status,
            "error_code": delivery.error_code,
            "emailed_instead": delivery.email_fallback is not None,
        },
    )


def _email_instead(delivery: ChannelDelivery, email: str) -> NotificationStart:
    return NotificationStart(
        workflow_id=f"{delivery.notification_id}-email",
        notification=NotificationInput(
            request=NotifyRequest(
                customer_id=delivery.customer_id,
                workflow_id=delivery.workflow_id,
                kind=delivery.kind,
                subject=delivery.subject,
                body=delivery.body,
                to_email=email,
            )
        ),
    )


@dataclass(frozen=True)
class SentMessage:
    """One sent message as ops read it."""

    sent_at: datetime
    updated_at: datetime
    channel: str
    to_number: str
    username: str | None
    kind: str
    subject: str
    status: str
    error: str | None
    emailed_instead: bool

    @property
    def failed(self) -> bool:
        return self.status in channels.FAILED_STATUSES


async def recent_messages(session: AsyncSession, customer_id: int, limit: int) -> list[SentMessage]:
    return [
        SentMessage(
            sent_at=d.sent_at,
            updated_at=d.updated_at,
            channel=CHANNEL_NAMES.get(d.channel, d.channel),
            to_number=d.to_number,
            username=username,
            kind=d.kind,
            subject=d.subject,
            status=d.status,
            error=error_words(d.error_code) if d.status in channels.FAILED_STATUSES else None,
            emailed_instead=d.status in channels.FAILED_STATUSES and d.email_fallback is not None,
        )
        for d, username in await channels.recent_deliveries(session, customer_id, limit=limit)
    ]
