"""What the supplier's figures read from the store, on both databases, written by the real
sync and planner: each sync's outcome, duration and attempt (a failed read of the ERP too),
the forecasts of the last version made for a day, deliveries and the maximum cover; and the
messages a channel could not deliver."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from erp.client import ErpClient
from erp.errors import ErpNotFound
from services import deliveries
from services.accounts import create_user
from services.recommend import recommend
from services.sync import sync_customer
from store import channels
from store import customer_settings as settings_repo
from store import insights as facts
from store import recommendations as recommendations_repo
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import ChannelDelivery, Order, OrderSource, OrderStatus, Role, User


def _today() -> date:
    return datetime.now(UTC).date()


async def _customer(sessions: async_sessionmaker[AsyncSession], erp_code: str) -> int:
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code=erp_code, name=erp_code, timezone="UTC")
        return customer.id


async def test_syncs_are_read_with_their_outcome_attempt_and_duration(
    sessions: async_sessionmaker[AsyncSession], erp_client: ErpClient
) -> None:
    known = await _customer(sessions, "K-10040")
    missing = await _customer(sessions, "K-NOT-IN-ERP")
    before = _today()
    await sync_customer(sessions, erp_client, known, attempt=2)
    with pytest.raises(ErpNotFound):
        await sync_customer(sessions, erp_client, missing, attempt=3)
    after = _today() + timedelta(days=1)  # the run may cross midnight

    async with sessions() as session:
        read = await facts.sync_facts(session, before, after)
        earlier = await facts.sync_facts(session, before - timedelta(days=7), before)
    mine = {f.customer_id: f for f in read if f.customer_id in (known, missing)}
    assert mine[known].ok and mine[known].attempt == 2
    assert mine[known].duration_s is not None and mine[known].duration_s > 0
    assert not mine[missing].ok and mine[missing].attempt == 3
    assert not [f for f in earlier if f.customer_id in (known, missing)]


async def test_forecasts_of_the_last_version_made_for_a_day(
    sessions: async_sessionmaker[AsyncSession], own_erp_client: ErpClient
) -> None:
    customer_id = await _customer(sessions, "K-20400")
    await sync_customer(sessions, own_erp_client, customer_id)
    first = await recommend(sessions, customer_id)
    async with unit_of_work(sessions) as session:
        await settings_repo.update(
            session, customer_id, {"safety_weeks": 4.0}, updated_by="user:ops"
        )
    second = await recommend(sessions, customer_id)
    assert second.version == first.version + 1

    today = _today()
    async with sessions() as session:
        read = await facts.forecast_facts(
            session, today - timedelta(days=1), today + timedelta(days=1)
        )
        header = await recommendations_repo.header_row(session, customer_id, second.version)
        assert header is not None
        lines = await recommendations_repo.all_line_rows(session, header["id"])
        cover = await facts.max_cover_weeks(session)
    mine = [f for f in read if f.customer_id == customer_id]
    expected = {ln["product_code"]: ln["explanation"]["forecast_weekly"] for ln in lines}
    assert len(mine) == len(expected) > 0  # the second version's lines only, once each
    assert {f.product_code: f.weekly for f in mine} == pytest.approx(expected)
    assert all(f.as_of == header["as_of"] for f in mine)
    assert second.settings is not None
    assert cover[customer_id] == second.settings.max_cover_weeks


async def test_receipts_are_the_lines_of_orders_delivered_in_the_period(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customer_id = await _customer(sessions, "K-RECEIPTS")
    day = date(2026, 3, 10)
    async with unit_of_work(sessions) as session:
        for delivered, code in ((day, "P-1"), (day + timedelta(days=30), "P-2"), (None, "P-3")):
            session.add(
                Order(
                    customer_id=customer_id,
                    source=OrderSource.ERP.value,
                    status=(OrderStatus.DELIVERED if delivered else OrderStatus.IN_TRANSIT).value,
                    ordered_on=day - timedelta(days=60),
                    delivered_on=delivered,
                    cartons=40,
                    lines=[{"product_code": code, "quantity": 40}],
                )
            )
    async with sessions() as session:
        read = await facts.receipt_facts(session, day, day + timedelta(days=7))
    assert [(r.product_code, r.day, r.cartons) for r in read if r.customer_id == customer_id] == [
        ("P-1", day, 40)
    ]


async def test_undelivered_messages_are_counted_per_customer_and_error_within_the_window(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await _customer(sessions, f"K-WA-{uuid.uuid4().hex[:6]}")
    second = await _customer(sessions, f"K-WA-{uuid.uuid4().hex[:6]}")
    now = datetime.now(UTC)
    sent = [
        (first, "failed", 63003, now),
        (first, "undelivered", 63003, now - timedelta(days=2)),
        (first, "failed", None, now),
        (first, "failed", 63016, now - timedelta(days=9)),  # before the window
        (first, "delivered", None, now),
        (second, "read", None, now),
        (second, "failed", 63016, now),
    ]
    async with unit_of_work(sessions) as session:
        for customer_id, status, code, at in sent:
            sid = f"SM{uuid.uuid4().hex}"
            await channels.record_sent(session, message_sid=sid, channel="whatsapp",
                customer_id=customer_id, to_number="+4915100000000", kind="ready",
                subject="s", body="b", workflow_id="w", notification_id="n")  # fmt: skip
            await channels.report_status(session, sid, status, code)
            await session.execute(
                update(ChannelDelivery)
                .where(ChannelDelivery.message_sid == sid)
                .values(updated_at=at)
            )
    async with sessions() as session:
        read = await facts.undelivered_messages(session, now - timedelta(days=7))
    mine = {f.customer_id: f for f in read if f.customer_id in (first, second)}
    assert mine[first].messages == 3 and mine[first].by_error == {63003: 2, None: 1}
    assert mine[second].messages == 1 and mine[second].by_error == {63016: 1}
    assert mine[first].channel == "whatsapp"


async def test_recent_messages_are_the_customers_own_newest_first_with_their_user(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    mine = await _customer(sessions, f"K-WA-{uuid.uuid4().hex[:6]}")
    other = await _customer(sessions, f"K-WA-{uuid.uuid4().hex[:6]}")
    phone = "+49171" + str(uuid.uuid4().int)[:8]
    async with unit_of_work(sessions) as session:
        await create_user(session, username=f"wa-{uuid.uuid4().hex[:6]}", password="x" * 12,
            role=Role.CUSTOMER, customer_id=mine, actor="test")  # fmt: skip
        user = (await session.scalars(select(User).where(User.customer_id == mine))).one()
        user.phone = phone
        sids = []
        for customer_id, to in ((mine, phone), (mine, "+4917100000009"), (other, phone)):
            sids.append(f"SM{uuid.uuid4().hex}")
            await channels.record_sent(session, message_sid=sids[-1], channel="whatsapp",
                customer_id=customer_id, to_number=to, kind="ready", subject="s", body="b",
                workflow_id="w", notification_id="n")  # fmt: skip
        await channels.report_status(session, sids[0], "failed", 63003)
    async with sessions() as session:
        shown = await deliveries.recent_messages(session, mine, 10)
    assert {m.to_number for m in shown} == {phone, "+4917100000009"}  # not the other's
    by_number = {m.to_number: m for m in shown}
    assert by_number[phone].username == user.username and by_number[phone].failed
    assert by_number[phone].error == "63003 (number not on WhatsApp)"
    assert by_number["+4917100000009"].username is None
    assert by_number["+4917100000009"].status == "queued"
    assert by_number["+4917100000009"].error is None
