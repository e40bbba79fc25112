"""Which buyer messages also go to WhatsApp, and to whom: one Notification per number of the
customer's enabled users who have not sent STOP, each under an id of its own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications import WHATSAPP_KINDS, whatsapp_copies, whatsapp_numbers
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import Role, User
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
