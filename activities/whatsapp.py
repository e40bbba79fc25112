"""Sending a WhatsApp message through Twilio's Messaging API (the official `twilio` client,
its base URL configurable so `restock channel-sim` can stand in for Twilio)."""

from __future__ import annotations

import asyncio
import json

from twilio.rest import Client

from core.messaging import MessageSender
from core.settings import Settings

MAX_TEXT = 1_500  # characters: a readable message, well under WhatsApp's 4,096


class TwilioWhatsApp:
    """`core.messaging.MessageSender` for WhatsApp through Twilio."""

    channel = "whatsapp"

    def __init__(self, settings: Settings) -> None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        self._client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
        if settings.twilio_api_base_url:
            self._client.api.base_url = settings.twilio_api_base_url
        self._sender = settings.twilio_whatsapp_from
        self._templates = settings.twilio_templates
        self._status_url = settings.twilio_status_url

    async def send(self, phone: str, kind: str, subject: str, text: str) -> str:
        """Send to `phone` (E.164); the message's SID. A kind with an approved template
        (RESTOCK_TWILIO_TEMPLATES) is sent as it, with the subject and the text as its
        variables 1 and 2: WhatsApp delivers free-form text only within 24 hours of the
        buyer's last message. Twilio reports its delivery to the status callback
        (`channels.twilio_webhook`)."""
        template = self._templates.get(kind)
        fields: dict[str, str] = {
            "from_": self._sender,
            "to": f"whatsapp:{phone}",
            "status_callback": self._status_url,
        }
        if template:
            fields["content_sid"] = template
            fields["content_variables"] = json.dumps({"1": subject, "2": text[:MAX_TEXT]})
        else:
            fields["body"] = f"{subject}\n\n{text}"[:MAX_TEXT]
        message = await asyncio.to_thread(self._client.messages.create, **fields)
        return str(message.sid)

    def carries(self, kind: str) -> bool:
        return bool(self._templates.get(kind))


def build_whatsapp(settings: Settings) -> MessageSender | None:
    """The WhatsApp sender when the Twilio account is configured, else None (e-mail only)."""
    if settings.whatsapp_configured:
        return TwilioWhatsApp(settings)
    return None
