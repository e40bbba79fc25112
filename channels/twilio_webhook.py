"""WhatsApp through Twilio: the inbound webhook (`POST /api/channels/twilio/whatsapp`).

Twilio posts each message as a form, signed with `X-Twilio-Signature` (HMAC-SHA1 of the URL
it called and the sorted fields, keyed by the account's auth token); the `twilio` package's
`RequestValidator` checks it, and an unsigned or altered request is 403 with nothing done.
The message is then answered as any channel's is (`channels.inbound`: once per
`MessageSid`), and the answer is TwiML, which Twilio sends back as a reply.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from api.deps import ResourcesDep
from api.schemas.common import error_doc
from channels import inbound
from core.errors import DependencyUnavailable, Forbidden, InvalidInput
from core.messaging import InboundMessage

PATH = "/api/channels/twilio/whatsapp"
CHANNEL = "whatsapp"
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
        403: error_doc(
            "X-Twilio-Signature missing, or not this request's",
            "bad_signature",
            "X-Twilio-Signature does not match this request",
        ),
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
    if not settings.twilio_auth_token:
        raise DependencyUnavailable(
            "twilio", "the WhatsApp channel is not configured (RESTOCK_TWILIO_AUTH_TOKEN)"
        )
    fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), True))
    url = settings.twilio_webhook_url or str(request.url)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(settings.twilio_auth_token).validate(url, fields, signature):
        raise Forbidden("X-Twilio-Signature does not match this request", code="bad_signature")
    message = InboundMessage(
        channel=CHANNEL,
        message_id=_required(fields, "MessageSid")[:64],
        from_number=_required(fields, "From")[:64].removeprefix(f"{CHANNEL}:"),
        body=fields.get("Body", "")[:MAX_BODY],
    )
    reply = await inbound.answer(message, settings, resources.sessions, resources.temporal.get)
    return _twiml(reply)


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
