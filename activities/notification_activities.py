"""Messages: handed to a Notification workflow, then sent by it (cycles started before
background notifications send them themselves)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.errors import temporal_errors
from activities.notifier import Message, Notifier
from core.messaging import MessageSender
from core.settings import Settings
from services import deliveries, notifications
from workflows.contract.notification import (
    NotificationFailure,
    NotificationStart,
    NotifyRequest,
)

RECORD_SENT_WITHIN_S = 5.0


class NotificationActivities:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        notifier: Notifier,
        whatsapp: MessageSender | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._notifier = notifier
        self._whatsapp = whatsapp

    @activity.defn(name="send_notification")
    async def send_notification(self, start: NotificationStart) -> None:
        """Hand a message to its own Notification workflow (retried in the background), and
        a buyer's message also to one per WhatsApp number of the customer's users."""
        copies: list[NotificationStart] = []
        if self._whatsapp is not None:
            numbers = await notifications.whatsapp_numbers(
                self._sessions, start.notification.request.customer_id
            )
            copies = notifications.whatsapp_copies(start, numbers)
        with temporal_errors():
            for each in (start, *copies):
                await notifications.send_in_background(
                    activity.client(), each, task_queue=activity.info().task_queue
                )

    @activity.defn(name="notify")
    async def notify(self, request: NotifyRequest) -> None:
        """Send one message. A failure is audited the first time and raised, so the
        Notification workflow retries it in the background; a late success is audited too."""
        attempt = activity.info().attempt
        if request.to_phone is not None:
            await self._send_whatsapp(request, request.to_phone, attempt)
            return
        to = await notifications.recipients(
            self._sessions,
            request,
            ops_email=self._settings.ops_email,
            whatsapp_carries=frozenset(
                kind for kind in notifications.WHATSAPP_KINDS if self._whatsapp.carries(kind)
            )
            if self._whatsapp is not None
            else frozenset(),
        )
        if not to:
            activity.logger.warning("no recipients for customer %s", request.customer_id)
            return
        body = await notifications.message_body(self._sessions, request, self._settings.portal_url)
        try:
            await self._notifier.send(Message(to=to, subject=request.subject, body=body))
        except Exception as err:
            if attempt == 1:
                await notifications.record(
                    self._sessions,
                    request,
                    "notification.failed",
                    error=str(err) or type(err).__name__,
                    retrying=True,
                )
            raise
        if attempt > 1:
            await notifications.record(
                self._sessions, request, "notification.sent", attempts=attempt
            )

    async def _send_whatsapp(self, request: NotifyRequest, phone: str, attempt: int) -> None:
        if self._whatsapp is None:
            raise RuntimeError("WhatsApp is not configured on this worker (RESTOCK_TWILIO_*)")
        body = await notifications.message_body(self._sessions, request, self._settings.portal_url)
        try:
            sid = await self._whatsapp.send(phone, request.kind, request.subject, body)
        except Exception as err:
            if attempt == 1:
                await notifications.record(
                    self._sessions,
                    request,
                    "notification.failed",
                    error=str(err) or type(err).__name__,
                    retrying=True,
                    channel=self._whatsapp.channel,
                )
            raise
        try:
            async with asyncio.timeout(RECORD_SENT_WITHIN_S):
                await deliveries.record_sent(
                    self._sessions,
                    request,
                    message_sid=sid,
                    channel=self._whatsapp.channel,
                    to_number=phone,
                    notification_id=activity.info().workflow_id or request.workflow_id,
                    replaces_email=self._whatsapp.carries(request.kind),
                )
        except Exception:
            # Sent is sent: raising (or outliving the attempt's timeout) would send it again.
            # Its delivery is then not followed.
            activity.logger.exception("could not keep WhatsApp message %s to follow it", sid)

    @activity.defn(name="record_notification_failure")
    async def record_notification_failure(self, failure: NotificationFailure) -> None:
        """Audit a message given up and, when it was the customer's, tell ops (once, best
        effort: the mail server that failed may still be down)."""
        await notifications.record_abandoned(self._sessions, failure)
        if failure.request.to_ops:
            return
        request = failure.request
        with contextlib.suppress(Exception):
            await self._notifier.send(
                Message(
                    to=[self._settings.ops_email],
                    subject=f"Undelivered to customer {request.customer_id}: {request.subject}",
                    body=f"This message could not be delivered ({failure.failure}):\n\n"
                    f"{request.body}",
                )
            )

    def all(self) -> list[Callable[..., Any]]:
        return [self.send_notification, self.notify, self.record_notification_failure]
