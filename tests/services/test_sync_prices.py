"""A sync keeps each product's price list rows and the customer's credit position in the
store, exact (amounts as text, never floats), on both databases; without a price list in
the ERP, the products say so (NULL), not "no prices"."""

from __future__ import annotations

from decimal import Decimal

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from erp.client import ErpClient, build_http_client
from erp.mapping import DEFAULT_MAPPING_FILE, ErpMapping
from planning.pricing import by_product
from services import prices
from services.recommend import recommend
from services.sync import sync_customer
from services.views.products import product_detail
from store import customer_settings as settings_repo
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import Snapshot, SnapshotProduct
from tests.plugins.erp_sim import ErpSim, new_customer


async def _customer(sessions: async_sessionmaker[AsyncSession], code: str) -> int:
    async with unit_of_work(sessions) as session:
        return (await upsert_customer(session, erp_code=code, name=code, timezone="UTC")).id


async def _stored(
    sessions: async_sessionmaker[AsyncSession], customer_id: int
) -> tuple[Snapshot, dict[str, list[list[object]] | None]]:
    async with sessions() as session:
        snapshot = await session.get(Snapshot, customer_id)
        rows = await session.execute(
            select(SnapshotProduct.code, SnapshotProduct.prices).where(
                SnapshotProduct.customer_id == customer_id
            )
        )
        assert snapshot is not None
        return snapshot, {code: kept for code, kept in rows}


async def test_prices_and_credit_are_kept_exactly(
    sessions: async_sessionmaker[AsyncSession],
    erp_client: ErpClient,
    erp_sim: ErpSim,
    fresh_customer: str,
) -> None:
    async with erp_sim.admin() as admin:
        limited = await admin.patch(
            f"/admin/customers/{fresh_customer}",
            json={"credit_limit": "125000.50", "open_balance": "20000.05"},
        )
        assert limited.status_code == 204, limited.text
    customer_id = await _customer(sessions, fresh_customer)
    await sync_customer(sessions, erp_client, customer_id)
    snapshot, kept = await _stored(sessions, customer_id)
    state = erp_sim.world.customer(fresh_customer)
    expected = by_product(state.prices)
    assert set(kept) == {p.code for p in state.products}
    for code, rows in kept.items():
        assert prices.rows_of(code, rows) == sorted(
            expected.get(code, []), key=lambda r: (r.valid_from, r.min_quantity)
        )
    assert snapshot.profile["credit_limit"] == "125000.50"
    assert Decimal(snapshot.profile["open_balance"]) == Decimal("20000.05")
    assert snapshot.profile["currency"] == "EUR"


async def test_without_a_price_list_the_products_say_so(
    sessions: async_sessionmaker[AsyncSession], erp_sim: ErpSim, fresh_customer: str
) -> None:
    data = yaml.safe_load(DEFAULT_MAPPING_FILE.read_text())
    del data["endpoints"]["prices"]
    http = build_http_client(erp_sim.settings())
    client = ErpClient(http, base_url=erp_sim.base_url, api_key=erp_sim.api_key,
                       mapping=ErpMapping.from_dict(data))  # fmt: skip
    customer_id = await _customer(sessions, fresh_customer)
    async with http:
        await sync_customer(sessions, client, customer_id)
    _, kept = await _stored(sessions, customer_id)
    assert kept and all(rows is None for rows in kept.values())


async def test_a_products_recommended_value_is_in_the_recommendations_currency(
    sessions: async_sessionmaker[AsyncSession], own_erp_sim: ErpSim, own_erp_client: ErpClient
) -> None:
    customer_id = await _customer(sessions, await new_customer(own_erp_sim, "T-PRICED"))
    async with unit_of_work(sessions) as session:
        # Whatever falls short ships: a part-filled container is not weighed against waiting.
        await settings_repo.get_or_create(session, customer_id, last_container="keep")
    await sync_customer(sessions, own_erp_client, customer_id)
    planned = await recommend(sessions, customer_id)
    ordered = [line for line in planned.lines if line.quantity > 0]
    assert ordered, "the generated customer orders something on its first review"
    snapshot, _ = await _stored(sessions, customer_id)
    async with sessions() as session:
        detail = await product_detail(session, customer_id, ordered[0].product_code)
        unordered = [
            p.code
            for p in (
                await session.scalars(
                    select(SnapshotProduct).where(SnapshotProduct.customer_id == customer_id)
                )
            )
            if p.code not in {line.product_code for line in planned.lines}
        ]
        quiet = await product_detail(session, customer_id, unordered[0]) if unordered else None
    assert detail.ordered_value is not None and detail.ordered_value > 0
    assert detail.ordered_value_currency == snapshot.profile["currency"] == "EUR"
    if quiet is not None:
        assert quiet.ordered_value is None and quiet.ordered_value_currency is None
