"""WhatsApp through Twilio: the inbound webhook (`POST /api/channels/twilio/whatsapp`).

Twilio posts each message as a form, signed with `X-Twilio-Signature` (HMAC-SHA1 of the URL
it called and the sorted fields, keyed by the account's auth token); the `twilio` package's
`RequestValidator` checks it, and an unsigned or altered request is 403 with nothing done.
Each `MessageSid` is kept once: a redelivery gets the first answer again and acts no second
time. One that arrives before the first was answered (at once, or after a crash) is read
again: its decision carries an Update id made from the MessageSid, so Temporal takes it
once and both get its outcome; an addition to the draft is not made again (it adds on
top). The answer is TwiML, which Twilio sends back as a reply.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from api.deps import ResourcesDep
from api.schemas.common import error_doc
from channels.conversation import Conversation, Sender
from channels.intents import Intent, read
from core.errors import DependencyUnavailable, Forbidden, InvalidInput
from services.accounts import grant_of, set_whatsapp_opt_out
from store import accounts as users_repo
from store import audit
from store import channels as messages_repo
from store.db import unit_of_work
from store.models import Role
from workflows.contract.cycle import Authority

PATH = "/api/channels/twilio/whatsapp"
CHANNEL = "whatsapp"
MAX_BODY = 4_096  # characters of a message kept and read (WhatsApp allows 4,096)
UNKNOWN_NUMBER = (
    "Hello! This number is not linked to a Restock account, so I cannot help with orders "
    "from it. Ask your supplier to add it to your user."
)
OPTED_OUT = "You will get no more WhatsApp messages from Restock. Send START to hear from us again."
STILL_WORKING = "Still working on that message; reply STATUS in a minute to see your draft."
OPTED_IN = "Welcome back: Restock will message you here again. Send HELP for what you can ask."

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
    sid, sender_number = _required(fields, "MessageSid")[:64], _required(fields, "From")[:64]
    body = fields.get("Body", "")[:MAX_BODY]

    async with unit_of_work(resources.sessions) as session:
        first = await messages_repo.claim(
            session, sid, channel=CHANNEL, from_number=sender_number, body=body
        )
        kept = None if first else await messages_repo.get(session, sid)
        if kept is not None and kept.reply is not None:
            return _twiml(kept.reply)  # answered before: the same answer, nothing done again
        user = await users_repo.find_by_phone(session, sender_number.removeprefix("whatsapp:"))
        reading = read(body)
        if not first and reading.intent in (Intent.ADD, Intent.CHOICE):
            # The first delivery is still at it (or stopped half way): cartons are added on
            # top of the draft, so only that one adds them.
            return _twiml(STILL_WORKING)
        if (
            user is None
            or user.disabled
            or user.role != Role.CUSTOMER.value
            or user.customer_id is None
        ):
            await messages_repo.answered(
                session, sid, reply=UNKNOWN_NUMBER, intent=None, user_id=None, customer_id=None
            )
            return _twiml(UNKNOWN_NUMBER)
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
            return _twiml(reply)
        grant = grant_of(user)
        sender = Sender(
            username=user.username,
            customer_id=user.customer_id,
            authority=Authority(role=grant.customer_role.value, limit=grant.approval_limit),
            user_id=user.id,
        )
        user_id = user.id

    conversation = Conversation(
        client=await resources.temporal.get(),
        rpc_timeout=timedelta(seconds=settings.temporal_rpc_timeout_seconds),
        public_url=settings.public_url,
        sessions=resources.sessions,
    )
    answer = await conversation.answer(sender, reading, sid)
    async with unit_of_work(resources.sessions) as session:
        await messages_repo.answered(
            session,
            sid,
            reply=answer.text,
            intent=reading.intent.value,
            user_id=user_id,
            customer_id=sender.customer_id,
        )
        await audit.append(
            session,
            actor=sender.actor,
            user_id=user_id,
            action="channel.message",
            customer_id=sender.customer_id,
            target_type="recommendation" if answer.version else None,
            target_id=None if answer.version is None else f"v{answer.version}",
            details={
                "channel": CHANNEL,
                "message_sid": sid,
                "reading": reading.label(),
                "outcome": answer.outcome,
            },
        )
    return _twiml(answer.text)


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
