"""A Twilio stand-in for WhatsApp (`restock channel-sim`): Twilio's Messaging API as Restock
would call it, and phones that reply to Restock's webhook as Twilio would post their
messages. Tests and people use it where a real Twilio account cannot be.

- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth (the account
  SID and auth token): the message is kept and answered with Twilio's message resource
  (201, `status: queued`), or with Twilio's error body: 20003 (authentication), 21211 (an
  invalid `To` number), 21602 (no `Body` nor `ContentSid`), 21655 (a `ContentSid` that is
  not an approved template). A free-form `Body` to a phone that has not written within 24
  hours is accepted and then fails with 63016, as WhatsApp's session window makes it fail;
  any message to a phone marked as not on WhatsApp fails with 63003.
  A `StatusCallback` is posted `sent` and `delivered` (or `failed` with its `ErrorCode`),
  signed with `X-Twilio-Signature`.
- `POST /admin/phones/{phone}/messages` (`{"body": …}`): the phone writes; the message is
  posted to Restock's webhook signed exactly as Twilio signs it, and Restock's TwiML reply is
  kept as the answer. `…/redeliver/{MessageSid}` posts one of them again (Twilio retries).
- `PUT /admin/phones/{phone}` (`{"on_whatsapp": false}`) marks a phone as not on WhatsApp
  (63003, "Channel could not find To address"), `true` again as on it.
- `GET /admin/messages` (`?phone=`) lists everything kept; `GET /phones/{phone}` is a small
  page with one phone's conversation.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from twilio.request_validator import RequestValidator

from core.settings import DEV_TWILIO_AUTH_TOKEN

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
DEV_ACCOUNT_SID = "AC" + "0" * 32
DEV_AUTH_TOKEN = DEV_TWILIO_AUTH_TOKEN
# `restock dev`'s one approved template, for what Restock sends on its own (outside the
# buyer's 24 hours): the subject and the text.
DEV_TEMPLATE = "HX" + "d" * 32
DEV_TEMPLATES = {DEV_TEMPLATE: "Restock: {{1}}\n\n{{2}}"}
SESSION_WINDOW = timedelta(hours=24)
API = "/2010-04-01/Accounts/{account_sid}/Messages.json"


@dataclass
class SimMessage:
    sid: str
    direction: str  # inbound (a phone wrote) | outbound-api (Restock sent) | outbound-reply
    phone: str
    body: str
    status: str
    at: datetime
    error_code: int | None = None
    content_sid: str | None = None
    webhook_status: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "direction": self.direction,
            "phone": self.phone,
            "body": self.body,
            "status": self.status,
            "at": self.at.isoformat(),
            "error_code": self.error_code,
            "content_sid": self.content_sid,
            "webhook_status": self.webhook_status,
        }


@dataclass
class SimState:
    account_sid: str
    auth_token: str
    sender: str
    webhook_url: str
    templates: dict[str, str] = field(default_factory=dict)
    messages: list[SimMessage] = field(default_factory=list)
    inbound_forms: dict[str, dict[str, str]] = field(default_factory=dict)
    off_whatsapp: set[str] = field(default_factory=set)

    def last_inbound(self, phone: str) -> datetime | None:
        times = [m.at for m in self.messages if m.phone == phone and m.direction == "inbound"]
        return max(times) if times else None


class PhoneMessage(BaseModel):
    body: str = Field(min_length=1, max_length=4_096)


class PhoneSettings(BaseModel):
    on_whatsapp: bool


def _sid() -> str:
    return "SM" + secrets.token_hex(16)


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def _phone_of(address: str) -> str:
    return address.removeprefix("whatsapp:")


def create_app(state: SimState) -> FastAPI:
    app = FastAPI(title="Twilio simulator (WhatsApp)", docs_url=None, redoc_url=None)
    app.state.sim = state
    callbacks: set[asyncio.Task[None]] = set()

    def authorised(request: Request, account_sid: str) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (
            secrets.compare_digest(user, state.account_sid)
            and secrets.compare_digest(password, state.auth_token)
            and account_sid == state.account_sid
        )

    @app.post(API)
    async def create_message(account_sid: str, request: Request) -> JSONResponse:
        if not authorised(request, account_sid):
            return _error(401, 20003, "Authenticate")
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        to = form.get("To", "")
        if not to.startswith("whatsapp:") or not E164.match(_phone_of(to)):
            return _error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        body, content_sid = form.get("Body", ""), form.get("ContentSid")
        if content_sid is not None and content_sid not in state.templates:
            return _error(400, 21655, f"The Content SID {content_sid} is invalid")
        if not body and content_sid is None:
            return _error(400, 21602, "Message body is required.")
        phone = _phone_of(to)
        now = datetime.now(UTC)
        text = (
            _render(state.templates[content_sid], form.get("ContentVariables"))
            if content_sid is not None
            else body
        )
        message = SimMessage(_sid(), "outbound-api", phone, text, "queued", now)
        message.content_sid = content_sid
        opened = state.last_inbound(phone)
        if phone in state.off_whatsapp:
            message.error_code = 63003  # Channel could not find To address
        elif content_sid is None and (opened is None or now - opened > SESSION_WINDOW):
            message.error_code = 63016  # free-form outside the 24 h session window
        state.messages.append(message)
        callback = form.get("StatusCallback")
        if callback:
            task = asyncio.create_task(_report(state, message, callback))
            callbacks.add(task)
            task.add_done_callback(callbacks.discard)
        else:
            message.status = "failed" if message.error_code else "delivered"
        return JSONResponse(_resource(state, message, form.get("From", state.sender)), 201)

    @app.get("/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json")
    async def fetch_message(account_sid: str, sid: str, request: Request) -> JSONResponse:
        if not authorised(request, account_sid):
            return _error(401, 20003, "Authenticate")
        for message in state.messages:
            if message.sid == sid and message.direction == "outbound-api":
                return JSONResponse(_resource(state, message, state.sender))
        return _error(404, 20404, f"The requested resource {request.url.path} was not found")

    @app.post("/admin/phones/{phone}/messages")
    async def phone_writes(phone: str, written: PhoneMessage) -> JSONResponse:
        if not E164.match(phone):
            return JSONResponse({"detail": "phone: E.164, like +4915112345678"}, 422)
        form = {
            "MessageSid": _sid(),
            "AccountSid": state.account_sid,
            "From": f"whatsapp:{phone}",
            "To": state.sender,
            "Body": written.body,
            "NumMedia": "0",
        }
        return JSONResponse(await _deliver(state, form))

    @app.put("/admin/phones/{phone}")
    async def phone_settings(phone: str, settings: PhoneSettings) -> JSONResponse:
        if not E164.match(phone):
            return JSONResponse({"detail": "phone: E.164, like +4915112345678"}, 422)
        (state.off_whatsapp.discard if settings.on_whatsapp else state.off_whatsapp.add)(phone)
        return JSONResponse({"phone": phone, "on_whatsapp": settings.on_whatsapp})

    @app.post("/admin/phones/{phone}/redeliver/{sid}")
    async def redeliver(phone: str, sid: str) -> JSONResponse:
        form = state.inbound_forms.get(sid)
        if form is None or _phone_of(form["From"]) != phone:
            return JSONResponse({"detail": f"no message {sid} from {phone}"}, 404)
        return JSONResponse(await _deliver(state, form, again=True))

    @app.get("/admin/messages")
    async def messages(phone: str | None = None) -> list[dict[str, Any]]:
        return [m.as_json() for m in state.messages if phone is None or m.phone == phone]

    @app.get("/phones/{phone}", response_class=HTMLResponse)
    async def conversation(phone: str) -> str:
        rows = "".join(
            f'<li class="{html.escape(m.direction)}" data-testid="message">'
            f"<time>{m.at:%Y-%m-%d %H:%M:%S}</time> <b>{_who(m)}</b>: "
            f"{html.escape(m.body)} <small>{html.escape(m.status)}"
            f"{f' {m.error_code}' if m.error_code else ''}</small></li>"
            for m in state.messages
            if m.phone == phone
        )
        return (
            "<!doctype html><meta charset=utf-8><title>WhatsApp "
            f"{html.escape(phone)}</title><h1>{html.escape(phone)}</h1><ul>{rows}</ul>"
        )

    return app


def _who(message: SimMessage) -> str:
    return "phone" if message.direction == "inbound" else "Restock"


def _resource(state: SimState, message: SimMessage, sender: str) -> dict[str, Any]:
    """Twilio's message resource, with the fields a client reads."""
    created = format_datetime(message.at)
    return {
        "sid": message.sid,
        "account_sid": state.account_sid,
        "api_version": "2010-04-01",
        "body": message.body,
        "date_created": created,
        "date_updated": created,
        "date_sent": None,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "status": "queued",
        "subresource_uris": {},
        "to": f"whatsapp:{message.phone}",
        "uri": f"/2010-04-01/Accounts/{state.account_sid}/Messages/{message.sid}.json",
    }


def sign(state: SimState, url: str, form: dict[str, str]) -> str:
    return str(RequestValidator(state.auth_token).compute_signature(url, form))


async def _report(state: SimState, message: SimMessage, url: str) -> None:
    """Status callbacks as Twilio sends them: `sent`, then `delivered` or `failed`."""
    final = "failed" if message.error_code else "delivered"
    async with httpx.AsyncClient(timeout=10) as client:
        for status in ("sent", final):
            message.status = status
            form = {
                "MessageSid": message.sid,
                "AccountSid": state.account_sid,
                "MessageStatus": status,
                "To": f"whatsapp:{message.phone}",
                "From": state.sender,
            }
            if status == "failed" and message.error_code:
                form["ErrorCode"] = str(message.error_code)
            try:
                await client.post(
                    url, data=form, headers={"X-Twilio-Signature": sign(state, url, form)}
                )
            except httpx.HTTPError:
                continue  # a callback nobody took is given up; the message goes on


async def _deliver(state: SimState, form: dict[str, str], *, again: bool = False) -> dict[str, Any]:
    """Post a phone's message to Restock's webhook as Twilio does, keep Restock's reply."""
    phone = _phone_of(form["From"])
    if not again:
        state.inbound_forms[form["MessageSid"]] = form
        state.messages.append(
            SimMessage(form["MessageSid"], "inbound", phone, form["Body"], "received", _now())
        )
    headers = {"X-Twilio-Signature": sign(state, state.webhook_url, form)}
    try:
        async with httpx.AsyncClient(timeout=15) as client:  # Twilio's webhook timeout
            answer = await client.post(state.webhook_url, data=form, headers=headers)
    except httpx.HTTPError as err:
        return {"message_sid": form["MessageSid"], "status": None, "reply": None, "error": str(err)}
    for kept in state.messages:
        if kept.sid == form["MessageSid"]:
            kept.webhook_status = answer.status_code
    reply = _twiml_reply(answer.text) if answer.status_code == 200 else None
    if reply:
        state.messages.append(
            SimMessage(_sid(), "outbound-reply", phone, reply, "delivered", _now())
        )
    return {"message_sid": form["MessageSid"], "status": answer.status_code, "reply": reply}


def _render(template: str, variables: str | None) -> str:
    """A template's text with its `{{n}}` variables filled in (ContentVariables is JSON)."""
    try:
        values = json.loads(variables) if variables else {}
    except ValueError:
        values = {}
    return re.sub(r"\{\{(\d+)\}\}", lambda m: str(values.get(m.group(1), m.group(0))), template)


def _twiml_reply(text: str) -> str | None:
    try:
        message = ET.fromstring(text).find("Message")
    except ET.ParseError:
        return None
    return None if message is None else (message.text or "")


def _now() -> datetime:
    return datetime.now(UTC)
