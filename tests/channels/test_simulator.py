"""The Twilio simulator speaks Twilio's protocol: the official `twilio` client sends through it
(and gets Twilio's errors), status callbacks arrive signed, and its phones write to Restock's
webhook, served over loopback HTTP, signed as Twilio signs, and keep Restock's replies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.inbound import UNKNOWN_NUMBER
from channels.intents import HELP_TEXT
from channels.simulator import SimState, create_app
from channels.twilio_webhook import PATH
from core.settings import Settings
from erp.simulator.server import ServerThread
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import ChannelMessage, Role, User
from tests.api.conftest import add_user
from webapp import create_app as create_restock

SID = "AC" + "1" * 32
TOKEN = "sim-test-auth-token"
SENDER = "whatsapp:+14155238886"
PHONE = "+4915112345678"


@pytest.fixture
def restock(app_settings: Settings) -> Iterator[str]:
    """Restock's web process on loopback, checking signatures with the simulator's token."""
    settings = app_settings.model_copy(update={"twilio_auth_token": TOKEN})
    server = ServerThread(create_restock(settings)).start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def sim(restock: str) -> Iterator[tuple[str, SimState]]:
    state = SimState(
        account_sid=SID,
        auth_token=TOKEN,
        sender=SENDER,
        webhook_url=restock + PATH,
        templates={"HX" + "a" * 32: "Your recommendation is ready: reply STATUS"},
    )
    server = ServerThread(create_app(state)).start()
    try:
        yield server.base_url, state
    finally:
        server.stop()


def _client(base_url: str, token: str = TOKEN) -> Client:
    client = Client(SID, token)
    client.api.base_url = base_url
    return client


async def test_the_twilio_client_sends_through_it_and_meets_twilios_errors(
    sim: tuple[str, SimState],
) -> None:
    base_url, state = sim
    client = _client(base_url)

    def send(**kw: Any) -> Any:
        return client.messages.create(from_=SENDER, **kw)

    template = await asyncio.to_thread(send, to=f"whatsapp:{PHONE}", content_sid="HX" + "a" * 32)
    assert template.sid.startswith("SM") and template.status == "queued"
    assert template.to == f"whatsapp:{PHONE}"
    fetched = await asyncio.to_thread(lambda: client.messages(template.sid).fetch())
    assert fetched.body == "Your recommendation is ready: reply STATUS"

    # Free-form text before the phone wrote: accepted, then failed (WhatsApp's 24 h window).
    early = await asyncio.to_thread(send, to=f"whatsapp:{PHONE}", body="Hello")
    assert early.status == "queued"
    kept = {m.sid: m for m in state.messages}
    assert kept[early.sid].status == "failed" and kept[early.sid].error_code == 63016

    for kw, code in [
        ({"to": "whatsapp:015112345678", "body": "x"}, 21211),
        ({"to": PHONE, "body": "x"}, 21211),  # not a WhatsApp address
        ({"to": f"whatsapp:{PHONE}", "content_sid": "HX" + "b" * 32}, 21655),
    ]:
        with pytest.raises(TwilioRestException) as refused:
            await asyncio.to_thread(send, **kw)
        assert refused.value.code == code, (kw, refused.value)
    async with httpx.AsyncClient(base_url=base_url, auth=(SID, TOKEN)) as http:
        bodiless = await http.post(
            f"/2010-04-01/Accounts/{SID}/Messages.json", data={"To": f"whatsapp:{PHONE}"}
        )
    assert bodiless.status_code == 400 and bodiless.json()["code"] == 21602
    with pytest.raises(TwilioRestException) as unauthorised:
        await asyncio.to_thread(
            lambda: _client(base_url, "wrong-token").messages.create(
                from_=SENDER, to=f"whatsapp:{PHONE}", body="x"
            )
        )
    assert unauthorised.value.code == 20003 and unauthorised.value.status == 401
    assert len(state.messages) == 2  # nothing refused was kept


async def test_status_callbacks_arrive_signed_as_twilio_signs_them(
    sim: tuple[str, SimState],
) -> None:
    base_url, _ = sim
    received: list[tuple[str, dict[str, str], str]] = []
    receiver = FastAPI()

    @receiver.post("/status")
    async def status(request: Request) -> dict[str, bool]:
        form = dict(parse_qsl((await request.body()).decode()))
        received.append((str(request.url), form, request.headers["X-Twilio-Signature"]))
        return {"ok": True}

    with ServerThread(receiver) as server:
        callback = f"{server.base_url}/status"
        async with httpx.AsyncClient(base_url=base_url, auth=(SID, TOKEN)) as http:
            await http.post(f"/admin/phones/{PHONE}/messages", json={"body": "hi"})
            sent = await http.post(
                f"/2010-04-01/Accounts/{SID}/Messages.json",
                data={"To": f"whatsapp:{PHONE}", "Body": "Hello", "StatusCallback": callback},
            )
        assert sent.status_code == 201, sent.text
        for _ in range(200):
            if len(received) == 2:
                break
            await asyncio.sleep(0.05)
    assert [form["MessageStatus"] for _, form, _ in received] == ["sent", "delivered"]
    validator = RequestValidator(TOKEN)
    for url, form, signature in received:
        assert form["MessageSid"] == sent.json()["sid"]
        assert validator.validate(url, form, signature)


async def test_its_phones_write_to_restocks_webhook_and_keep_the_replies(
    sim: tuple[str, SimState], sessions: async_sessionmaker[AsyncSession]
) -> None:
    base_url, state = sim
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code="S-WA", name="S", timezone="UTC")
    await add_user(sessions, "wa-sim-buyer", Role.CUSTOMER, customer.id)
    async with unit_of_work(sessions) as session:
        user = await session.scalar(select(User).where(User.username == "wa-sim-buyer"))
        assert user is not None
        user.phone = PHONE

    async with httpx.AsyncClient(base_url=base_url) as http:
        helped = (await http.post(f"/admin/phones/{PHONE}/messages", json={"body": "help"})).json()
        assert helped["status"] == 200 and helped["reply"] == HELP_TEXT
        again = (await http.post(f"/admin/phones/{PHONE}/redeliver/{helped['message_sid']}")).json()
        assert again["status"] == 200 and again["reply"] == HELP_TEXT
        stranger = "+4930123456789"
        unknown = (
            await http.post(f"/admin/phones/{stranger}/messages", json={"body": "<b>approve</b>"})
        ).json()
        assert unknown["reply"] == UNKNOWN_NUMBER
        page = await http.get(f"/phones/{stranger}")
        listed = (await http.get("/admin/messages", params={"phone": PHONE})).json()
    assert page.status_code == 200 and "&lt;b&gt;approve&lt;/b&gt;" in page.text
    assert "<b>approve</b>" not in page.text and page.text.count('data-testid="message"') == 2
    assert [m["direction"] for m in listed] == ["inbound", "outbound-reply", "outbound-reply"]
    assert listed[0]["webhook_status"] == 200
    async with sessions() as session:
        kept = await session.scalar(
            select(func.count())
            .select_from(ChannelMessage)
            .where(ChannelMessage.message_sid == helped["message_sid"])
        )
    assert kept == 1  # the redelivery was answered from what Restock kept

    # A message altered on its way (the simulator signs with another token) is refused.
    forged = SimState(SID, "not-the-token", SENDER, state.webhook_url)
    with ServerThread(create_app(forged)) as other:
        async with httpx.AsyncClient(base_url=other.base_url) as http:
            refused = (
                await http.post(f"/admin/phones/{PHONE}/messages", json={"body": "help"})
            ).json()
    assert refused["status"] == 403 and refused["reply"] is None
