"""What became of a WhatsApp message: Twilio's status callbacks, from the Twilio simulator to
Restock's API over HTTP, kept with each message Restock sent; a failed one is audited and,
for a user told on WhatsApp only (so not e-mailed), e-mailed instead, once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from twilio.request_validator import RequestValidator

from activities.notifier import LogNotifier, Message
from channels.simulator import SimState
from channels.simulator import create_app as create_sim
from core.messaging import TWILIO_STATUS_PATH
from core.settings import Settings
from erp.simulator.server import ServerThread
from services import notifications
from services.accounts import ApprovalGrant
from store.customers import upsert_customer
from store.db import reading, unit_of_work
from store.models import AuditEntry, ChannelDelivery, NotifyBy, Role, User
from tests.api.conftest import add_user
from tests.plugins.ports import free_port
from tests.workflows.conftest import terminate_open_workflows
from webapp import create_app
from worker import running_worker
from workflows.contract.notification import NotificationInput, NotificationStart, NotifyRequest

T = TypeVar("T")
TOKEN = "test-twilio-auth-token"
READY_TEMPLATE = "HX" + "e" * 32


@dataclass(frozen=True)
class Buyer:
    name: str
    email: str
    phone: str


async def _buyer(
    sessions: async_sessionmaker[AsyncSession], customer_id: int, notify_by: NotifyBy
) -> Buyer:
    name = f"wa-{uuid.uuid4().hex[:8]}"
    await add_user(
        sessions, name, Role.CUSTOMER, customer_id, ApprovalGrant(customer_role="approver")
    )
    buyer = Buyer(name, f"{name}@buyer.example", "+49170" + str(uuid.uuid4().int)[:8])
    async with unit_of_work(sessions) as session:
        user = await session.scalar(select(User).where(User.username == name))
        assert user is not None
        user.email, user.phone, user.notify_by = buyer.email, buyer.phone, notify_by.value
    return buyer


async def _eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    for _ in range(240):
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"not within 60 s: {what}")


async def test_a_message_whatsapp_cannot_deliver_is_audited_and_emailed_to_a_whatsapp_only_user(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    queue = f"{task_queue}-wa-status"
    port = free_port()
    # The callbacks' URL is derived from the public URL (the signature covers it).
    api_settings = app_settings.model_copy(
        update={
            "twilio_auth_token": TOKEN,
            "temporal_task_queue": queue,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    web = ServerThread(create_app(api_settings), port=port).start()
    status_url = web.base_url + TWILIO_STATUS_PATH
    assert api_settings.twilio_status_url == status_url
    state = SimState(
        account_sid="AC" + "3" * 32,
        auth_token=TOKEN,
        sender="whatsapp:+14155238886",
        webhook_url=web.base_url + "/api/channels/twilio/whatsapp",
        templates={READY_TEMPLATE: "Restock: {{1}}\n{{2}}"},
    )
    sim = ServerThread(create_sim(state)).start()
    worker_settings = api_settings.model_copy(
        update={
            "twilio_account_sid": state.account_sid,
            "twilio_api_base_url": sim.base_url,
            "twilio_templates": {"ready": READY_TEMPLATE},
        }
    )
    notifier = LogNotifier()
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(
            session, erp_code=f"WA-{uuid.uuid4().hex[:6]}", name="Status Foods", timezone="UTC"
        )
        customer_id = customer.id
    only = await _buyer(sessions, customer_id, NotifyBy.WHATSAPP)  # not on WhatsApp
    both = await _buyer(sessions, customer_id, NotifyBy.BOTH)  # not on WhatsApp
    reachable = await _buyer(sessions, customer_id, NotifyBy.WHATSAPP)
    cycle_id = f"reorder-test-{uuid.uuid4().hex[:8]}"
    try:
        async with (
            running_worker(worker_settings, temporal_client, task_queue=queue, notifier=notifier),
            httpx.AsyncClient(base_url=sim.base_url) as sim_admin,
        ):
            for phone in (only.phone, both.phone):
                marked = await sim_admin.put(f"/admin/phones/{phone}", json={"on_whatsapp": False})
                assert marked.status_code == 200, marked.text
            for buyer in (only, both, reachable):
                await notifications.send_in_background(
                    temporal_client,
                    NotificationStart(
                        workflow_id=f"{cycle_id}-ready-{buyer.name}",
                        notification=NotificationInput(
                            request=NotifyRequest(
                                customer_id=customer_id,
                                workflow_id=cycle_id,
                                kind="ready",
                                subject="Your reorder recommendation is ready",
                                body="2 containers, 1 urgent.",
                                to_phone=buyer.phone,
                            )
                        ),
                    ),
                    task_queue=queue,
                )

            async def final_statuses() -> dict[str, ChannelDelivery] | None:
                async with reading(sessions) as session:
                    rows = (
                        await session.scalars(
                            select(ChannelDelivery).where(
                                ChannelDelivery.customer_id == customer_id
                            )
                        )
                    ).all()
                by_phone = {row.to_number: row for row in rows}
                done = {"failed", "delivered"}
                if len(by_phone) == 3 and all(r.status in done for r in by_phone.values()):
                    return by_phone
                return None

            delivered = await _eventually(final_statuses, "three messages followed to the end")
            assert delivered[only.phone].status == "failed"
            assert delivered[only.phone].error_code == 63003
            assert delivered[only.phone].email_fallback == only.email
            assert delivered[both.phone].status == "failed"
            assert delivered[both.phone].email_fallback is None  # e-mailed with the contacts
            assert delivered[reachable.phone].status == "delivered"
            assert delivered[reachable.phone].error_code is None

            async def emailed() -> list[Message] | None:
                sent = [m for m in notifier.sent if only.email in m.to]
                return sent or None

            (email,) = await _eventually(emailed, "the WhatsApp-only user's e-mail")
            assert email.to == [only.email]
            assert email.subject == "Your reorder recommendation is ready"
            assert "2 containers, 1 urgent." in email.body
            print({"statuses": {p[-4:]: (r.status, r.error_code) for p, r in delivered.items()}})

            # Twilio delivers a callback again: applied once, the e-mail not sent twice.
            failed = delivered[only.phone]
            form = {
                "MessageSid": failed.message_sid,
                "AccountSid": state.account_sid,
                "MessageStatus": "failed",
                "ErrorCode": "63003",
            }
            async with httpx.AsyncClient(base_url=web.base_url) as api:
                signed = RequestValidator(TOKEN).compute_signature(status_url, form)
                again = await api.post(
                    TWILIO_STATUS_PATH, data=form, headers={"X-Twilio-Signature": signed}
                )
                assert again.status_code == 204, again.text
                late = form | {"MessageStatus": "sent", "ErrorCode": ""}
                late_signed = RequestValidator(TOKEN).compute_signature(status_url, late)
                behind = await api.post(
                    TWILIO_STATUS_PATH, data=late, headers={"X-Twilio-Signature": late_signed}
                )
                assert behind.status_code == 204, behind.text  # out of order: kept failed
                forged = await api.post(
                    TWILIO_STATUS_PATH,
                    data=form | {"MessageSid": delivered[reachable.phone].message_sid},
                    headers={"X-Twilio-Signature": signed},
                )
                assert forged.status_code == 403
                assert forged.json()["error"] == "bad_signature"
                bad = form | {"MessageStatus": "lost"}
                refused = await api.post(
                    TWILIO_STATUS_PATH,
                    data=bad,
                    headers={
                        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(
                            status_url, bad
                        )
                    },
                )
                assert refused.status_code == 422
                assert refused.json()["field"] == "MessageStatus"

            fallback = temporal_client.get_workflow_handle(f"{cycle_id}-ready-{only.name}-email")
            await fallback.result()
            assert (await fallback.describe()).status is WorkflowExecutionStatus.COMPLETED
            assert len([m for m in notifier.sent if only.email in m.to]) == 1
            assert not [m for m in notifier.sent if reachable.email in m.to]
            assert not [m for m in notifier.sent if both.email in m.to]
    finally:
        await terminate_open_workflows(temporal_client, queue)
        sim.stop()
        web.stop()

    async with reading(sessions) as session:
        audited = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.customer_id == customer_id,
                    AuditEntry.action == "notification.undelivered",
                )
            )
        ).all()
        kept = await session.scalar(
            select(ChannelDelivery).where(ChannelDelivery.to_number == reachable.phone)
        )
    assert sorted(a.details["emailed_instead"] for a in audited) == [False, True]
    assert {a.details["error_code"] for a in audited} == {63003}
    assert kept is not None and kept.status == "delivered"  # the forged report changed nothing
