"""Which buyer messages also go to WhatsApp, and to whom: one Notification per number of the
customer's enabled users who have not sent STOP, each under an id of its own."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Environment, Settings
from services.accounts import set_notify_by, whatsapp_unreachable
from services.notifications import WHATSAPP_KINDS, recipients, whatsapp_copies, whatsapp_numbers
from store import snapshots
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import NotifyBy, Role, User
from tests.api.conftest import add_user
from workflows.contract.notification import NotificationInput, NotificationStart, NotifyRequest


def _start(kind: str, **kw: object) -> NotificationStart:
    request = NotifyRequest(
        customer_id=1, workflow_id="reorder-cycle-1", kind=kind, subject="s", body="b", **kw
    )
    return NotificationStart(
        workflow_id="notify-1", notification=NotificationInput(request=request)
    )


def test_buyer_messages_are_copied_once_per_number_and_ops_messages_never() -> None:
    numbers = [(7, "+4915100000007"), (9, "+4915100000009")]
    copies = whatsapp_copies(_start("ready"), numbers)
    assert [c.workflow_id for c in copies] == ["notify-1-wa7", "notify-1-wa9"]
    assert [c.notification.request.to_phone for c in copies] == [n for _, n in numbers]
    assert all(c.notification.request.kind == "ready" for c in copies)
    assert _start("ready").notification.request.to_phone is None  # the e-mail stays as it was
    for start in (
        _start("ready", to_ops=True),
        _start("approval_requested", to_approvers=True),
        _start("submission_failed"),
    ):
        assert whatsapp_copies(start, numbers) == []
    assert {"ready", "reminder", "expired", "submitted", "late", "delivered"} == WHATSAPP_KINDS


async def test_only_enabled_users_with_a_number_who_did_not_stop_are_told(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code="WA-1", name="W", timezone="UTC")
        other = await upsert_customer(session, erp_code="WA-2", name="O", timezone="UTC")
    numbers = {
        "told": "+4915100000001",
        "stopped": "+4915100000002",
        "disabled": "+4915100000003",
        "elsewhere": "+4915100000004",
    }
    for name in (*numbers, "no-number"):
        owner = other.id if name == "elsewhere" else customer.id
        await add_user(sessions, f"wa-{name}", Role.CUSTOMER, owner)
    async with unit_of_work(sessions) as session:
        for name, phone in numbers.items():
            found = await session.scalar(select(User).where(User.username == f"wa-{name}"))
            assert found is not None
            found.phone = phone
            found.whatsapp_opted_out = name == "stopped"
            found.disabled = name == "disabled"
    told = await whatsapp_numbers(sessions, customer.id)
    assert [phone for _, phone in told] == [numbers["told"]]


async def test_each_user_is_told_the_way_they_chose(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """WhatsApp only: no e-mail copy to the user's address while WhatsApp reaches them and
    carries the message (an approved template); e-mail only: no WhatsApp copy. Ops' and
    approvers' e-mails are not buyer messages."""
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code="WA-3", name="W", timezone="UTC")
        await snapshots.save_snapshot(
            session,
            customer.id,
            synced_at=datetime(2026, 12, 1, tzinfo=UTC),
            as_of=date(2026, 12, 1),
            data_quality={},
            products=[],
            shipment_count=0,
            order_count=0,
            fingerprint="test",
            profile={
                "contacts": [
                    {"email": "Anna@Example.com"},
                    {"email": "bert@example.com"},
                    {"email": "cleo@example.com"},
                ]
            },
        )
    chosen = {
        "anna": ("Anna@example.com", "+4915100000011", NotifyBy.WHATSAPP),
        "bert": ("bert@example.com", "+4915100000012", NotifyBy.EMAIL),
        "cleo": ("cleo@example.com", None, NotifyBy.WHATSAPP),  # no number: e-mail still
    }
    for name in chosen:
        await add_user(sessions, f"nb-{name}", Role.CUSTOMER, customer.id)
    async with unit_of_work(sessions) as session:
        for name, (email, phone, notify_by) in chosen.items():
            user = await session.scalar(select(User).where(User.username == f"nb-{name}"))
            assert user is not None
            user.email, user.phone = email, phone
            await set_notify_by(session, user, notify_by, actor="user:test")

    numbers = await whatsapp_numbers(sessions, customer.id)
    assert [phone for _, phone in numbers] == ["+4915100000011"]  # not bert's: e-mail only
    ready = _start("ready").notification.request.model_copy(update={"customer_id": customer.id})
    carried = frozenset({"ready", "submission_failed"})  # WhatsApp's templates
    assert await recipients(sessions, ready, ops_email="ops@x", whatsapp_carries=carried) == [
        "bert@example.com",
        "cleo@example.com",
    ]
    # Where WhatsApp cannot carry the message (no template, or not configured): e-mail.
    assert len(await recipients(sessions, ready, ops_email="ops@x")) == 3
    failed = ready.model_copy(update={"kind": "submission_failed"})  # not a buyer message
    assert len(await recipients(sessions, failed, ops_email="ops@x", whatsapp_carries=carried)) == 3
    async with unit_of_work(sessions) as session:
        anna = await session.scalar(select(User).where(User.username == "nb-anna"))
        assert anna is not None
        anna.whatsapp_opted_out = True  # STOP: WhatsApp no longer reaches her
    assert len(await recipients(sessions, ready, ops_email="ops@x", whatsapp_carries=carried)) == 3


def test_whether_whatsapp_reaches_a_user_is_said_in_words() -> None:
    twilio = Settings(
        env=Environment.TEST, twilio_account_sid="AC" + "1" * 32, twilio_auth_token="token"
    )
    reachable = User(username="b", phone="+4915100000007", whatsapp_opted_out=False)
    assert whatsapp_unreachable(reachable, twilio) is None
    assert "has not set up WhatsApp" in (
        whatsapp_unreachable(reachable, Settings(env=Environment.TEST)) or ""
    )
    no_number = User(username="b", phone=None, whatsapp_opted_out=False)
    assert "no WhatsApp number" in (whatsapp_unreachable(no_number, twilio) or "")
    stopped = User(username="b", phone="+4915100000007", whatsapp_opted_out=True)
    assert "you replied STOP" in (whatsapp_unreachable(stopped, twilio) or "")
