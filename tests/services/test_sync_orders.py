"""A sync matches the ERP's orders to ours (by the reference we sent, or the ERP's number),
adopts the ERP's number and status for ours, and adds the ERP's others once, on both
databases; `store.orders.ErpOrderIndex` finds them all with one query."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from erp.client import ErpClient
from erp.models import OrderSubmission
from planning.models import OrderLine
from services.sync import sync_customer
from store import orders as orders_repo
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import Order, OrderSource, OrderStatus
from tests.plugins.erp_sim import ErpSim


def _order(order_id: int, number: str | None, key: str | None) -> Order:
    return Order(id=order_id, erp_order_number=number, idempotency_key=key)


def test_the_index_matches_by_reference_or_number_and_the_earliest_wins() -> None:
    by_key, by_number = _order(7, None, "approval-1-c1"), _order(3, "SO-9", None)
    index = orders_repo.ErpOrderIndex([by_key, by_number])
    assert index.match("SO-1", "approval-1-c1") is by_key
    assert index.match("SO-9", None) is by_number
    assert index.match("SO-9", "approval-1-c1") is by_number  # both match: the earlier one
    assert index.match("SO-2", "other") is None
    by_key.erp_order_number = "SO-1"
    index.add(by_key)  # its number adopted during the sync
    assert index.match("SO-1", None) is by_key
    later = _order(12, "SO-1", None)
    index.add(later)
    assert index.match("SO-1", None) is by_key


async def test_a_sync_adopts_our_order_and_adds_the_erps_others_once(
    sessions: async_sessionmaker[AsyncSession],
    erp_client: ErpClient,
    erp_sim: ErpSim,
    fresh_customer: str,
) -> None:
    async with unit_of_work(sessions) as session:
        customer_id = (
            await upsert_customer(
                session, erp_code=fresh_customer, name=fresh_customer, timezone="UTC"
            )
        ).id
    first = erp_sim.world.customer(fresh_customer).products[0]
    product, cartons = first.code, max(first.pack_size, first.moq)
    key = f"test-{fresh_customer}-approval-1-c1"
    async with unit_of_work(sessions) as session:
        ours = await orders_repo.create_order(
            session,
            customer_id=customer_id,
            status=OrderStatus.APPROVED,
            source=OrderSource.RESTOCK,
            ordered_on=date.today(),
            lines=[{"product_code": product, "quantity": cartons}],
            actor="test",
            idempotency_key=key,
        )
        our_id = ours.id
    receipt = await erp_client.submit_order(
        fresh_customer,
        OrderSubmission(lines=[OrderLine(product_code=product, quantity=cartons)]),
        key,
    )
    listed = (await erp_client.sync_snapshot(fresh_customer)).orders  # the sync's window
    assert receipt.order_number in {o.order_number for o in listed}
    assert len(listed) > 1  # the generated customer's history, and ours

    for _ in range(2):  # the second sync finds every order it added the first time
        await sync_customer(sessions, erp_client, customer_id)
        async with sessions() as session:
            stored = list(
                await session.scalars(select(Order).where(Order.customer_id == customer_id))
            )
        assert len(stored) == len(listed)
        assert {o.erp_order_number for o in stored} == {o.order_number for o in listed}
        mine = next(o for o in stored if o.id == our_id)
        assert mine.erp_order_number == receipt.order_number
        assert mine.source == OrderSource.RESTOCK.value
        assert mine.status != OrderStatus.APPROVED.value  # moved on to the ERP's status
        assert all(o.source == OrderSource.ERP.value for o in stored if o.id != our_id)
