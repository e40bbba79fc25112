"""The one interface for the messengers Restock speaks to buyers.

WhatsApp through Twilio is the implementation today (`activities.whatsapp`, and the
webhook in `channels.twilio_webhook`). SMS or another messenger is another sender with its
own webhook: the webhook checks its provider's signature and turns the request into an
`InboundMessage`, and `channels.inbound.answer` does the rest (each message once, the
number's user, STOP/START, reading, acting, audit) the same for every channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

TWILIO_STATUS_PATH = "/api/channels/twilio/status"
"""Where Twilio posts the delivery status of each message Restock sent."""


class MessageSender(Protocol):
    channel: str
    """Its name in the audit log and on messages: "whatsapp", "sms", …"""

    async def send(self, phone: str, kind: str, subject: str, text: str) -> str:
        """Send to `phone` (E.164); the provider's id of the message."""
        ...

    def carries(self, kind: str) -> bool:
        """Whether a message of this kind reaches the user whenever it is sent (WhatsApp:
        an approved template; free-form text only within 24 hours of the user's last)."""
        ...


@dataclass(frozen=True)
class InboundMessage:
    """A message a buyer sent, as its webhook received it (signature already checked)."""

    channel: str
    message_id: str
    """The provider's id (Twilio's MessageSid): a redelivery carries the same one."""
    from_number: str
    """E.164, without the provider's prefix (`whatsapp:`)."""
    body: str
