"""WhatsApp end to end: Twilio's signed webhook in the API, a real dev server, worker and ERP.

Messages are posted as Twilio posts them (a form signed with `X-Twilio-Signature` by the
`twilio` package's own `RequestValidator`), from numbers ops gave to customer users.
"""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from activities.notifier import LogNotifier
from api.auth import tokens
from channels.conversation import Conversation, Sender
from channels.intents import read
from channels.simulator import SimState
from channels.simulator import create_app as create_sim
from core.messaging import TWILIO_STATUS_PATH
from erp.simulator.server import ServerThread
from planning.packing import effective_moq
from services.accounts import ApprovalGrant
from services.cycle_control import cycle_handle, cycle_status, send_update
from services.drafts import get_draft, save_draft
from store import customer_settings as settings_repo
from store import snapshots
from store.db import unit_of_work
from store.models import AuditEntry, ChannelDelivery, ChannelMessage, CustomerRole, Role, User
from tests.api.conftest import add_user, bearer
from tests.plugins.ports import free_port
from tests.workflows.conftest import CycleStack, terminate_open_workflows, terminate_when_idle
from webapp import create_app
from worker import running_worker
from workflows.contract import names
from workflows.contract.cycle import (
    Authority,
    ContainerView,
    CycleState,
    CycleStatus,
    LineView,
    RecommendationView,
    RefreshRequest,
)

TOKEN = "test-twilio-auth-token"
PATH = "/api/channels/twilio/whatsapp"
URL = f"http://api{PATH}"


@dataclass
class Phone:
    """A buyer's WhatsApp: what it sends reaches the webhook as Twilio would post it."""

    http: httpx.AsyncClient
    number: str

    async def send(
        self, text: str, *, sid: str | None = None, token: str = TOKEN
    ) -> httpx.Response:
        fields = {
            "MessageSid": sid or f"SM{uuid.uuid4().hex}",
            "AccountSid": "AC" + "0" * 32,
            "From": f"whatsapp:{self.number}",
            "To": "whatsapp:+14155238886",
            "Body": text,
            "NumMedia": "0",
        }
        signature = RequestValidator(token).compute_signature(URL, fields)
        return await self.http.post(PATH, data=fields, headers={"X-Twilio-Signature": signature})

    async def say(self, text: str, *, sid: str | None = None) -> str:
        """The reply Restock sends back (TwiML's message)."""
        answer = await self.send(text, sid=sid)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/xml")
        message = ET.fromstring(answer.text).find("Message")
        return "" if message is None else message.text or ""


@dataclass
class Chat:
    http: httpx.AsyncClient
    ops: dict[str, str]
    stack: CycleStack

    async def phone_for(
        self,
        name: str,
        customer_id: int,
        role: CustomerRole = CustomerRole.APPROVER,
        limit: Decimal | None = None,
    ) -> Phone:
        """A customer user whose number ops set over the API."""
        grant = ApprovalGrant(customer_role=role, approval_limit=limit)
        await add_user(self.stack.sessions, name, Role.CUSTOMER, customer_id, grant)
        number = "+49151" + str(uuid.uuid4().int)[:8]
        set_phone = await self.http.put(
            f"/api/customers/{customer_id}/users/{name}/phone",
            headers=self.ops,
            json={"phone": number},
        )
        assert set_phone.status_code == 200, set_phone.text
        assert set_phone.json()["phone"] == number
        return Phone(self.http, number)


@pytest.fixture
async def chat(own_clock_stack: CycleStack) -> AsyncIterator[Chat]:
    settings = own_clock_stack.settings.model_copy(
        update={"twilio_auth_token": TOKEN, "twilio_webhook_url": URL}
    )
    ops = await add_user(own_clock_stack.sessions, f"ops-{uuid.uuid4().hex[:6]}", Role.OPS)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Chat(http, bearer(tokens.issue(settings, ops).token), own_clock_stack)


async def _waiting_with_urgent_and_others(stack: CycleStack) -> tuple[int, str, list[int], int]:
    """The first new customer whose recommendation has urgent containers and others
    (generated data depends on the code and the day): (id, ERP code, urgent, version)."""
    tried: list[str] = []
    for _ in range(8):
        customer_id, erp_code = await stack.new_customer(
            n_products=16, lead_time_weeks=10, monthly_cartons=120_000
        )
        await stack.start(customer_id)
        state = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
        rec = state.recommendation
        assert rec is not None
        if rec.urgent_indexes and len(rec.urgent_indexes) < len(rec.containers):
            return customer_id, erp_code, rec.urgent_indexes, rec.version
        tried.append(rec.summary)
        await terminate_when_idle(cycle_handle(stack.client, customer_id), "not the data needed")
    raise AssertionError(f"no customer with urgent and other containers: {tried}")


async def _count(stack: CycleStack, action: str, customer_id: int) -> int:
    async with stack.sessions() as session:
        counted = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.customer_id == customer_id)
        )
    return int(counted or 0)


async def test_approve_urgent_by_message_orders_exactly_the_urgent_containers_once(
    own_clock_stack: CycleStack, chat: Chat
) -> None:
    customer_id, erp_code, urgent, version = await _waiting_with_urgent_and_others(own_clock_stack)
    phone = await chat.phone_for(f"wa-{uuid.uuid4().hex[:6]}", customer_id)

    status = await phone.say("status")
    assert f"Recommendation v{version} waits for you" in status
    assert f"{len(urgent)} urgent" in status and f"/customers/{customer_id}/" in status
    listed = await phone.say("what is urgent")
    assert all(f"container {i}:" in listed for i in urgent), listed

    sid = f"SM{uuid.uuid4().hex}"
    confirmed = await phone.say("Approve urgent please", sid=sid)
    assert confirmed.startswith(f"Approved recommendation v{version}:"), confirmed
    submissions = await own_clock_stack.submissions(erp_code)
    assert len(submissions) == len(urgent)
    for submission in submissions:
        assert f"is ERP order {submission['order_number']}" in confirmed, (submission, confirmed)

    # Twilio delivers the same message again: the same answer, no second decision.
    again = await phone.say("Approve urgent please", sid=sid)
    assert again == confirmed
    assert len(await own_clock_stack.submissions(erp_code)) == len(urgent)
    assert await _count(own_clock_stack, "recommendation.approved", customer_id) == 1
    async with own_clock_stack.sessions() as session:
        audited = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "channel.message", AuditEntry.customer_id == customer_id
                )
            )
        )
    decisions = [e for e in audited if e.details["outcome"] == "approved"]
    assert len(decisions) == 1 and decisions[0].details["channel"] == "whatsapp"
    assert decisions[0].details["reading"] == "approve urgent"
    assert decisions[0].details["message_sid"] == sid


async def test_a_choice_above_the_limit_is_proposed_by_message_and_an_approver_orders_it(
    own_clock_stack: CycleStack, chat: Chat
) -> None:
    stack = own_clock_stack
    customer_id, erp_code = await stack.new_customer()
    buyer_name = f"wa-buyer-{uuid.uuid4().hex[:6]}"
    buyer = await chat.phone_for(buyer_name, customer_id, CustomerRole.BUYER, Decimal("1.00"))
    viewer = await chat.phone_for(
        f"wa-view-{uuid.uuid4().hex[:6]}", customer_id, CustomerRole.VIEWER
    )
    approver = await chat.phone_for(f"wa-appr-{uuid.uuid4().hex[:6]}", customer_id)
    await stack.start(customer_id)
    waiting = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    rec = waiting.recommendation
    assert rec is not None and rec.containers
    first = rec.containers[0]
    assert first.value is not None and first.value > Decimal("1.00")

    # Above the buyer's limit: refused in words, with the reply that proposes it.
    refused = await buyer.say(f"approve container {first.index}")
    assert refused.startswith("Not approved: the containers chosen are worth"), refused
    assert f"above your approval limit of 1.00 {rec.currency}" in refused
    assert refused.endswith(f"Reply PROPOSE CONTAINER {first.index} to send it to them."), refused
    assert await stack.submissions(erp_code) == []

    not_viewers = await viewer.say("propose all")
    assert not_viewers == "Not proposed: the viewer role may not propose an approval", not_viewers

    sid = f"SM{uuid.uuid4().hex}"
    proposed = await buyer.say(f"please propose container {first.index}", sid=sid)
    assert proposed.startswith(
        f"Proposed containers {first.index} of recommendation v{rec.version}, "
        f"worth {first.value:,.2f} {rec.currency}, to an approver"
    ), proposed
    assert await buyer.say(f"please propose container {first.index}", sid=sid) == proposed
    held = await cycle_status(stack.client, customer_id)
    assert held.status is CycleStatus.AWAITING_APPROVAL and held.proposal is not None
    assert held.proposal.actor == f"user:{buyer_name}"
    assert held.proposal.containers == [first.index]
    assert await stack.submissions(erp_code) == []
    assert await _count(stack, "recommendation.proposed", customer_id) == 1

    approved = await approver.say(f"approve container {first.index}")
    assert approved.startswith(f"Approved recommendation v{rec.version}:"), approved
    (submission,) = await stack.submissions(erp_code)
    assert f"is ERP order {submission['order_number']}" in approved
    decided = await stack.wait_for(customer_id, CycleStatus.SUBMITTED)
    assert decided.decision is not None
    assert decided.decision.reason == f"proposed by user:{buyer_name}"
    async with stack.sessions() as session:
        outcomes = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "channel.message", AuditEntry.customer_id == customer_id
                )
            )
        )
    said = sorted(e.details["outcome"] for e in outcomes)
    assert said == ["approved", "proposed", "refused", "refused"], said


async def test_signatures_numbers_roles_and_tenants_are_held(
    own_clock_stack: CycleStack, chat: Chat
) -> None:
    customer_id, erp_code = await own_clock_stack.new_customer()
    other_id, other_erp_code = await own_clock_stack.new_customer()
    for started in (customer_id, other_id):
        await own_clock_stack.start(started)
    state = await own_clock_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    theirs = await own_clock_stack.wait_for(other_id, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None and theirs.recommendation is not None
    approver = await chat.phone_for(f"wa-a-{uuid.uuid4().hex[:6]}", customer_id)

    # A forged or altered message: 403, nothing kept, nothing done.
    forged = await approver.send("approve all", token="not-the-account-token")
    assert forged.status_code == 403 and forged.json()["error"] == "bad_signature"
    unsigned = await chat.http.post(PATH, data={"MessageSid": "SM1", "Body": "approve all"})
    assert unsigned.status_code == 403
    async with own_clock_stack.sessions() as session:
        kept = await session.scalar(
            select(func.count())
            .select_from(ChannelMessage)
            .where(ChannelMessage.from_number == f"whatsapp:{approver.number}")
        )
    assert kept == 0
    assert await own_clock_stack.submissions(erp_code) == []

    # A signed message without its id is refused, naming the field.
    fields = {"From": f"whatsapp:{approver.number}", "Body": "status"}
    signature = RequestValidator(TOKEN).compute_signature(URL, fields)
    nameless = await chat.http.post(PATH, data=fields, headers={"X-Twilio-Signature": signature})
    assert nameless.status_code == 422 and nameless.json()["field"] == "MessageSid"

    # A number nobody has: a polite answer and nothing else.
    stranger = Phone(chat.http, "+4930" + str(uuid.uuid4().int)[:8])
    assert "not linked to a Restock account" in await stranger.say("approve all")

    # Another customer's user acts on their own customer's review only.
    outsider = await chat.phone_for(f"wa-o-{uuid.uuid4().hex[:6]}", other_id)
    approved = await outsider.say("approve all")
    assert approved.startswith(f"Approved recommendation v{theirs.recommendation.version}")
    assert len(await own_clock_stack.submissions(other_erp_code)) == len(
        theirs.recommendation.containers
    )
    assert await own_clock_stack.submissions(erp_code) == []
    assert (
        await own_clock_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    ).decision is None

    # A viewer reads, and the cycle's own validator refuses its approval, in words.
    viewer = await chat.phone_for(
        f"wa-v-{uuid.uuid4().hex[:6]}", customer_id, role=CustomerRole.VIEWER
    )
    refused = await viewer.say("approve all")
    assert refused == "Not approved: the viewer role may not approve", refused
    buyer = await chat.phone_for(
        f"wa-b-{uuid.uuid4().hex[:6]}", customer_id, role=CustomerRole.BUYER
    )
    assert (await buyer.say("reject too expensive")).startswith("Only an approver may reject")
    missing = await approver.say("approve container 99")
    assert missing.startswith("Not approved: no container 99"), missing
    assert await own_clock_stack.submissions(erp_code) == []

    # STOP and START are the user's own choice, kept and audited.
    assert "no more WhatsApp messages" in await approver.say("STOP")
    async with own_clock_stack.sessions() as session:
        user = await session.scalar(select(User).where(User.phone == approver.number))
        assert user is not None and user.whatsapp_opted_out is True
    assert "Welcome back" in await approver.say("start")
    async with own_clock_stack.sessions() as session:
        user = await session.scalar(select(User).where(User.phone == approver.number))
        assert user is not None and user.whatsapp_opted_out is False

    # An approver rejects with a reason; the review ends and nothing was ordered.
    rejected = await approver.say("Reject: prices went up, we wait a week")
    assert rejected.startswith(f"Rejected recommendation v{state.recommendation.version}")
    done = await own_clock_stack.wait_for(customer_id, CycleStatus.REJECTED)
    assert done.decision is not None and "prices went up" in (done.decision.reason or "")
    assert await own_clock_stack.submissions(erp_code) == []


async def test_a_number_belongs_to_one_user_and_ops_set_it(
    own_clock_stack: CycleStack, chat: Chat
) -> None:
    customer_id, _ = await own_clock_stack.new_customer()
    first = await chat.phone_for(f"wa-1-{uuid.uuid4().hex[:6]}", customer_id)
    second = f"wa-2-{uuid.uuid4().hex[:6]}"
    await add_user(own_clock_stack.sessions, second, Role.CUSTOMER, customer_id)
    url = f"/api/customers/{customer_id}/users/{second}/phone"
    taken = await chat.http.put(url, headers=chat.ops, json={"phone": first.number})
    assert taken.status_code == 409 and taken.json()["field"] == "phone", taken.text
    for bad in ("0151 1234567", "+0151", "4915112345678", ""):
        refused = await chat.http.put(url, headers=chat.ops, json={"phone": bad})
        assert refused.status_code == 422 and refused.json()["field"] == "phone", refused.text
    other_id, _ = await own_clock_stack.new_customer()
    elsewhere = await chat.http.put(
        f"/api/customers/{other_id}/users/{second}/phone",
        headers=chat.ops,
        json={"phone": "+15550100"},
    )
    assert elsewhere.status_code == 404
    removed = await chat.http.delete(
        f"/api/customers/{customer_id}/users/{second}/phone", headers=chat.ops
    )
    assert removed.status_code == 204
    assert await _count(own_clock_stack, "user.phone_set", customer_id) == 1
    assert await _count(own_clock_stack, "user.phone_removed", customer_id) == 1


READY_TEMPLATE = "HX" + "c" * 32


async def test_told_on_whatsapp_approved_by_reply_and_confirmed_with_erp_numbers(
    temporal_client: Client,
    own_clock_stack: CycleStack,
    task_queue: str,
) -> None:
    """The whole conversation through the Twilio simulator: the worker sends "ready" (as an
    approved template), the buyer's phone replies "approve urgent" to Restock's webhook over
    HTTP, the ERP gets exactly the urgent containers once, and the order confirmation comes
    back on WhatsApp with their ERP numbers."""
    base = own_clock_stack.settings
    port = free_port()
    status_url = f"http://127.0.0.1:{port}{TWILIO_STATUS_PATH}"
    web = ServerThread(
        create_app(
            base.model_copy(
                update={"twilio_auth_token": TOKEN, "twilio_status_callback_url": status_url}
            )
        ),
        port=port,
    ).start()
    state = SimState(
        account_sid="AC" + "2" * 32,
        auth_token=TOKEN,
        sender="whatsapp:+14155238886",
        webhook_url=web.base_url + PATH,
        templates={READY_TEMPLATE: "Restock: {{1}}\n{{2}}"},
    )
    sim = ServerThread(create_sim(state)).start()
    queue = f"{task_queue}-wa"
    settings = base.model_copy(
        update={
            "twilio_account_sid": state.account_sid,
            "twilio_auth_token": TOKEN,
            "twilio_api_base_url": sim.base_url,
            "twilio_templates": {"ready": READY_TEMPLATE},
            "twilio_status_callback_url": status_url,
            "temporal_task_queue": queue,
        }
    )
    stack = CycleStack(
        temporal_client,
        settings,
        own_clock_stack.sessions,
        queue,
        own_clock_stack.erp_sim,
        LogNotifier(),
    )
    try:
        async with running_worker(settings, temporal_client, task_queue=queue):
            await _approved_by_reply(stack, state, sim.base_url)
    finally:
        await terminate_open_workflows(temporal_client, queue)
        sim.stop()
        web.stop()


async def _approved_by_reply(stack: CycleStack, state: SimState, sim_url: str) -> None:
    tried: list[str] = []
    for _ in range(8):
        customer_id, erp_code = await stack.new_customer(
            n_products=16, lead_time_weeks=10, monthly_cartons=120_000
        )
        name = f"wa-e2e-{uuid.uuid4().hex[:6]}"
        await add_user(
            stack.sessions,
            name,
            Role.CUSTOMER,
            customer_id,
            ApprovalGrant(customer_role="approver"),
        )
        phone = "+49160" + str(uuid.uuid4().int)[:8]
        async with unit_of_work(stack.sessions) as session:
            user = await session.scalar(select(User).where(User.username == name))
            assert user is not None
            user.phone = phone
        await stack.start(customer_id)
        waiting = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
        rec = waiting.recommendation
        assert rec is not None
        if rec.urgent_indexes and len(rec.urgent_indexes) < len(rec.containers):
            break
        tried.append(rec.summary)
        await terminate_when_idle(cycle_handle(stack.client, customer_id), "not the data needed")
    else:
        raise AssertionError(f"no customer with urgent and other containers: {tried}")

    async with httpx.AsyncClient(base_url=sim_url) as sim:

        async def to_phone() -> list[dict[str, Any]]:
            listed = await sim.get("/admin/messages", params={"phone": phone})
            return [m for m in listed.json() if m["direction"] == "outbound-api"]

        def ready_delivered(found: list[dict[str, Any]]) -> bool:
            return bool(found) and found[0]["status"] == "delivered"

        sent = await _eventually(to_phone, ready_delivered, "the ready message, delivered")
        ready = sent[0]
        assert ready["content_sid"] == READY_TEMPLATE
        assert ready["body"].startswith("Restock: ") and "to approve for" in ready["body"]

        answered = await sim.post(
            f"/admin/phones/{phone}/messages", json={"body": "approve urgent"}
        )
        reply = answered.json()
        assert reply["status"] == 200, reply
        assert reply["reply"].startswith(f"Approved recommendation v{rec.version}:"), reply
        submissions = await stack.submissions(erp_code)
        assert len(submissions) == len(rec.urgent_indexes)
        numbers = [s["order_number"] for s in submissions]
        assert all(f"is ERP order {n}" in reply["reply"] for n in numbers), reply

        def confirms(found: list[dict[str, Any]]) -> bool:
            return any(
                all(n in m["body"] for n in numbers) and m["status"] == "delivered"
                for m in found[1:]
            )

        after = await _eventually(to_phone, confirms, "the order confirmation on WhatsApp")
    confirmation = next(m for m in after[1:] if all(n in m["body"] for n in numbers))
    assert confirmation["body"].startswith("Order placed for")
    assert confirmation["status"] == "delivered"  # free-form: the buyer wrote within 24 h
    assert len(await stack.submissions(erp_code)) == len(rec.urgent_indexes)
    # Twilio's status callbacks reached Restock, which keeps each message's delivery.
    async with unit_of_work(stack.sessions) as session:
        followed = await session.scalar(
            select(ChannelDelivery).where(ChannelDelivery.message_sid == ready["sid"])
        )
    assert followed is not None and followed.status == "delivered", followed
    assert followed.customer_id == customer_id and followed.kind == "ready"


async def _eventually(
    read: Callable[[], Awaitable[list[dict[str, Any]]]],
    done: Callable[[list[dict[str, Any]]], bool],
    what: str,
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for _ in range(300):
        found = await read()
        if done(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"never saw {what}: {found}")


async def test_products_are_added_by_message_and_an_approval_takes_the_draft(
    own_clock_stack: CycleStack, chat: Chat
) -> None:
    """Two products the ERP lists under close names: 'add … oat drink' asks which, by number,
    and '2' drafts the second. A line topped up by message, with room made for it (another
    line drafted to 0, as in the portal), goes to the ERP with the approval by message."""
    stack = own_clock_stack
    customer_id, erp_code = await stack.new_customer()
    sim = stack.erp_sim
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-Api-Key": sim.api_key}) as erp:
        items = (await erp.get(f"/api/v1/customers/{erp_code}/items")).json()["ROWS"]
    oat = [
        {
            **items[0],
            "ITEM_CODE": f"OAT-{size}",
            "ITEM_DESC": f"Barista Oat Drink {size}",
            "ITEM_STAT": "A",  # sold (the row copied may be of a discontinued item)
        }
        for size in ("1L", "250ML")
    ]
    async with sim.admin() as admin:
        listed = await admin.post(f"/admin/customers/{erp_code}/rows/items", json=oat)
        assert listed.status_code == 200, listed.text
    await stack.start(customer_id)
    state = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    rec = state.recommendation
    assert rec is not None
    phone = await chat.phone_for(f"wa-add-{uuid.uuid4().hex[:6]}", customer_id)
    async with stack.sessions() as session:
        [oat_small] = await snapshots.products_by_code(session, customer_id, ["OAT-250ML"])
    cartons = effective_moq(oat_small.pack_size, oat_small.moq)

    asked = await phone.say(f"please add {cartons} cartons of oat drink")
    assert asked.startswith(f"Which product do you mean for {cartons:,} cartons?"), asked
    assert "1. Barista Oat Drink 1L (OAT-1L)" in asked and "(OAT-250ML)" in asked
    numbered = {line.split(". ")[0]: line for line in asked.splitlines()[1:3]}
    pick = next(n for n, line in numbered.items() if "OAT-250ML" in line)
    drafted = await phone.say(pick)
    assert drafted.startswith(f"Added {cartons:,} cartons of Barista Oat Drink 250ML"), drafted
    assert "Which one" in await phone.say("7")  # not one of the choices: asks, adds nothing
    assert "Which one" in await phone.say(pick)  # the list was answered: no second pick
    async with stack.sessions() as session:
        draft = await get_draft(session, customer_id, rec.version)
    assert draft.edits == {"OAT-250ML": cartons}

    # A line only one container holds is topped up by message; another line of that
    # container is drafted to 0 (its share there) to make room.
    container, topped, room = _top_up_and_room(rec)
    more = effective_moq(topped.pack_size, topped.moq)
    async with unit_of_work(stack.sessions) as session:
        changes: dict[str, int | None] = {room.product_code: 0, "OAT-250ML": None}
        await save_draft(session, customer_id, rec.version, changes, "user:test")
    added = await phone.say(f"add {more} {topped.product_code.lower()}")
    assert f"{topped.quantity + more:,} in your draft" in added, added

    approved = await phone.say(f"approve container {container.index}")
    assert approved.startswith(
        f"Approved recommendation v{rec.version} with your draft's 2 changes:"
    ), approved
    [submission] = await stack.submissions(erp_code)
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-Api-Key": sim.api_key}) as erp:
        order = (
            await erp.get(f"/api/v1/customers/{erp_code}/orders/{submission['order_number']}")
        ).json()
    lines = {line["ITEM_CODE"]: line["ORDER_QTY"] for line in order["LINES"]}
    assert lines[topped.product_code] == topped.quantity + more
    assert room.product_code not in lines


def _top_up_and_room(rec: RecommendationView) -> tuple[ContainerView, LineView, LineView]:
    """A container, a line only it holds, and another of its lines with room for a pack more
    of the first (whatever the generated data made)."""
    for container in rec.containers:
        elsewhere = {
            ln.product_code for c in rec.containers if c.index != container.index for ln in c.lines
        }
        for topped in (ln for ln in container.lines if ln.product_code not in elsewhere):
            more = effective_moq(topped.pack_size, topped.moq)
            for room in container.lines:
                if room.product_code != topped.product_code and room.quantity >= more:
                    return container, topped, room
    raise AssertionError(f"no container with a line of its own and room: {rec.summary}")


async def test_a_version_replaced_while_a_message_is_read_is_refused_in_words(
    own_clock_stack: CycleStack, chat: Chat
) -> None:
    """The message is read against v1; before its approval reaches the cycle, a refresh
    makes v2 (new settings): the cycle refuses v1 and the buyer is told so, in words."""
    stack = own_clock_stack
    customer_id, erp_code = await stack.new_customer()
    await stack.start(customer_id)
    state = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    v1 = state.recommendation
    assert v1 is not None
    async with unit_of_work(stack.sessions) as session:
        await settings_repo.update(session, customer_id, {"target_soh_weeks": 16.0}, updated_by="t")
    refreshed: CycleState = await send_update(
        stack.client, customer_id, names.REFRESH, RefreshRequest(actor="buyer")
    )
    assert refreshed.recommendation is not None and refreshed.recommendation.version > v1.version
    conversation = Conversation(
        client=stack.client,
        rpc_timeout=timedelta(seconds=10),
        public_url="http://portal",
        sessions=stack.sessions,
    )
    buyer = Sender("wa-stale", customer_id, Authority(role="approver"))
    answer = await conversation._approve(buyer, v1, read("approve all"), f"SM{uuid.uuid4().hex}")
    assert answer.outcome == "refused"
    assert answer.text == (
        f"Not approved: v{v1.version} is stale; the current recommendation is "
        f"v{refreshed.recommendation.version}"
    )
    assert await stack.submissions(erp_code) == []
