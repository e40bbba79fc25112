"""WhatsApp through Twilio: the inbound webhook (`POST /api/channels/twilio/whatsapp`) and
the delivery status callback (`POST /api/channels/twilio/status`).

Twilio posts each message as a form, signed with `X-Twilio-Signature` (HMAC-SHA1 of the URL
it called and the sorted fields, keyed by the account's auth token); the `twilio` package's
`RequestValidator` checks it, and an unsigned or altered request is 403 with nothing done.
The message is then answered as any channel's is (`channels.inbound`: once per
`MessageSid`), and the answer is TwiML, which Twilio sends back as a reply. A status
callback, signed the same way, is applied to the message Restock sent
(`services.deliveries`): a failure is audited and, for a user told on WhatsApp only, the
message goes by e-mail instead.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from api.deps import ResourcesDep
from api.schemas.common import error_doc
from channels import inbound
from core.errors import DependencyUnavailable, Forbidden, InvalidInput, NotFound
from core.messaging import TWILIO_STATUS_PATH, InboundMessage
from core.settings import Settings
from services import deliveries, notifications
from store.channels import STATUSES

PATH = "/api/channels/twilio/whatsapp"
CHANNEL = "whatsapp"
SENDER_RECORDS_WITHIN_S = 5
MAX_BODY = 4_096  # characters of a message kept and read (WhatsApp allows 4,096)

router = APIRouter(tags=["channels"])

_FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["MessageSid", "From"],
                "properties": {
                    "MessageSid": {"type": "string", "maxLength": 64},
                    "From": {"type": "string", "example": "whatsapp:+4915112345678"},
                    "To": {"type": "string"},
                    "Body": {"type": "string"},
                    "AccountSid": {"type": "string"},
                },
            }
        }
    },
}
_BAD_SIGNATURE = error_doc(
    "X-Twilio-Signature missing, or not this request's",
    "bad_signature",
    "X-Twilio-Signature does not match this request",
)
_TWIML = {"description": "TwiML: the reply Twilio sends the buyer", "content": {"text/xml": {}}}


@router.post(
    PATH,
    summary="Twilio's inbound WhatsApp webhook: a signed message from a user's verified number "
    "is read and answered (approve, reject, status, urgent, add a product, help, STOP/START); "
    "once per MessageSid",
    openapi_extra={"requestBody": _FORM},
    response_class=Response,
    responses={
        200: _TWIML,
        403: _BAD_SIGNATURE,
        422: error_doc(
            "A signed message without MessageSid or From",
            "invalid_input",
            "MessageSid: missing from the message",
        ),
        503: error_doc(
            "The channel is not configured (RESTOCK_TWILIO_AUTH_TOKEN)",
            "dependency_unavailable",
            "twilio is unavailable",
        ),
    },
)
async def inbound_whatsapp(request: Request, resources: ResourcesDep) -> Response:
    settings = resources.settings
    fields = await _signed_form(request, settings, settings.twilio_webhook_url)
    message = InboundMessage(
        channel=CHANNEL,
        message_id=_required(fields, "MessageSid")[:64],
        from_number=_required(fields, "From")[:64].removeprefix(f"{CHANNEL}:"),
        body=fields.get("Body", "")[:MAX_BODY],
    )
    reply = await inbound.answer(message, settings, resources.sessions, resources.temporal.get)
    return _twiml(reply)


_STATUS_FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["MessageSid", "MessageStatus"],
                "properties": {
                    "MessageSid": {"type": "string", "maxLength": 64},
                    "MessageStatus": {
                        "type": "string",
                        "enum": sorted(STATUSES),
                    },
                    "ErrorCode": {"type": "string", "example": "63016"},
                    "AccountSid": {"type": "string"},
                },
            }
        }
    },
}


@router.post(
    TWILIO_STATUS_PATH,
    summary="Twilio's delivery status callback for a message Restock sent: kept with the "
    "message; a failure is audited and, for a user told on WhatsApp only, the message is "
    "e-mailed instead (once)",
    openapi_extra={"requestBody": _STATUS_FORM},
    status_code=204,
    response_class=Response,
    responses={
        403: _BAD_SIGNATURE,
        404: error_doc(
            "Restock sent no message with this MessageSid",
            "not_found",
            "message SM0123 not found",
        ),
        422: error_doc(
            "A signed callback without MessageSid, or with a status Twilio does not send",
            "invalid_input",
            "MessageStatus: 'lost' is not a Twilio message status",
        ),
        503: error_doc(
            "The channel is not configured (RESTOCK_TWILIO_AUTH_TOKEN), or Temporal is down "
            "when an e-mail must be sent instead (the status is kept; the e-mail starts when "
            "the failure is reported again)",
            "dependency_unavailable",
            "twilio is unavailable",
        ),
    },
)
async def delivery_status(request: Request, resources: ResourcesDep) -> Response:
    settings = resources.settings
    fields = await _signed_form(request, settings, settings.twilio_status_url)
    sid = _required(fields, "MessageSid")[:64]
    status = _required(fields, "MessageStatus").lower()
    if status not in STATUSES:
        raise InvalidInput(
            f"MessageStatus: {status[:32]!r} is not a Twilio message status", field="MessageStatus"
        )
    code = fields.get("ErrorCode", "").strip()
    if code and not (code.isascii() and code.isdigit()):
        raise InvalidInput(f"ErrorCode: {code[:16]!r} is not a number", field="ErrorCode")
    error_code = int(code) if code else None
    for _ in range(SENDER_RECORDS_WITHIN_S * 4):
        known, fallback = await deliveries.status_reported(
            resources.sessions, message_sid=sid, status=status, error_code=error_code
        )
        if known:
            break
        # Twilio can call back before the sender has kept the id its request was answered
        # with (milliseconds, unless the database is slow): wait for it a little.
        await asyncio.sleep(0.25)
    else:
        raise NotFound(f"message {sid} not found")
    if fallback is not None:
        await notifications.send_in_background(
            await resources.temporal.get(), fallback, task_queue=settings.temporal_task_queue
        )
    return Response(status_code=204)


async def _signed_form(
    request: Request, settings: Settings, configured_url: str | None
) -> dict[str, str]:
    """The form Twilio posted, once its X-Twilio-Signature is this request's (403 if not)."""
    if not settings.twilio_auth_token:
        raise DependencyUnavailable(
            "twilio", "the WhatsApp channel is not configured (RESTOCK_TWILIO_AUTH_TOKEN)"
        )
    fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), True))
    url = configured_url or str(request.url)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(settings.twilio_auth_token).validate(url, fields, signature):
        raise Forbidden("X-Twilio-Signature does not match this request", code="bad_signature")
    return fields


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise InvalidInput(f"{name}: missing from the message", field=name)
    return value


def _twiml(text: str | None) -> Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return Response(content=str(reply), media_type="text/xml")


def install_channels(app: FastAPI) -> None:
    app.include_router(router)
