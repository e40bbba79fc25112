"""The consumption signal from the ERP to the plan: each sync keeps the stock it read and the
ERP's new weekly consumption reports (only the weeks after the last one kept), and the plan
forecasts from the best source a product has and says which, on the product too.

Real ERP simulator over HTTP (one of the test's own: it moves the clock), real database.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from erp.client import ErpClient, build_http_client
from erp.mapping import DEFAULT_MAPPING_FILE, load_mapping
from services.recommend import plan_input, recommend
from services.sync import sync_customer
from services.views.products import product_detail
from store import customer_settings as settings_repo
from store import orders as orders_repo
from store import recommendations as recommendations_repo
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import (
    OrderSource,
    OrderStatus,
    RecommendationLine,
    RecommendationRecord,
    Snapshot,
    SnapshotProduct,
)
from tests.plugins.erp_sim import ErpSim

CODE = "K-10040"


async def _customer(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code=CODE, name=CODE, timezone="UTC")
        # Lines to read the explanations of: ship the last container as it is.
        await settings_repo.get_or_create(session, customer.id, last_container="keep")
        return customer.id


async def _products(
    sessions: async_sessionmaker[AsyncSession], customer_id: int
) -> list[SnapshotProduct]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(SnapshotProduct)
                .where(SnapshotProduct.customer_id == customer_id)
                .options(
                    undefer(SnapshotProduct.stock_counts), undefer(SnapshotProduct.consumption)
                )
            )
        )


async def test_syncs_keep_stock_counts_and_reports_and_the_plan_reads_the_erps_reports(
    sessions: async_sessionmaker[AsyncSession], own_erp_client: ErpClient, own_erp_sim: ErpSim
) -> None:
    customer_id = await _customer(sessions)
    first = await sync_customer(sessions, own_erp_client, customer_id)
    async with sessions() as session:
        snapshot = await session.get(Snapshot, customer_id)
    assert snapshot is not None and snapshot.consumption_through is not None
    through = snapshot.consumption_through
    assert through.weekday() == 0 and through + timedelta(days=7) <= first.as_of
    products = await _products(sessions, customer_id)
    weeks = {w for p in products for w, _, _ in p.consumption or []}
    assert len(weeks) == 52 and max(weeks) == through.toordinal()
    assert all(p.stock_counts == [[first.as_of.toordinal(), p.stock_on_hand]] for p in products)

    version = await recommend(sessions, customer_id)
    products = await _products(sessions, customer_id)
    sources = {p.code: p.history_source for p in products}
    selling = [p for p in products if p.weekly_forecast]
    assert selling and all(sources[p.code] == "erp_activity" for p in selling), sources
    async with sessions() as session:
        texts = list(
            await session.scalars(
                select(RecommendationLine.explanation["text"].as_string())
                .join(RecommendationRecord)
                .where(
                    RecommendationRecord.customer_id == customer_id,
                    RecommendationRecord.version == version.version,
                )
            )
        )
    assert texts and all("the ERP's consumption reports" in t for t in texts), texts[:1]
    async with sessions() as session:
        detail = await product_detail(session, customer_id, selling[0].code)
    assert detail.history_source == "erp_activity"

    # A week later: one stock count more, and only the new week's reports were read.
    own_erp_sim.world.advance(7)
    second = await sync_customer(sessions, own_erp_client, customer_id)
    async with sessions() as session:
        snapshot = await session.get(Snapshot, customer_id)
    assert snapshot is not None and snapshot.consumption_through == through + timedelta(days=7)
    products = await _products(sessions, customer_id)
    assert all(
        [c[0] for c in p.stock_counts or []] == [first.as_of.toordinal(), second.as_of.toordinal()]
        for p in products
        if p.stock_on_hand is not None
    )
    weeks = {w for p in products for w, _, _ in p.consumption or []}
    assert len(weeks) == 53 and max(weeks) == through.toordinal() + 7
    # The new week's reports arrived with it.
    consumed = sum(
        int(q or 0) for p in products for w, q, _ in p.consumption or [] if w == max(weeks)
    )
    assert consumed > 0


async def test_without_the_erps_reports_stock_counts_accrue_for_the_plan(
    sessions: async_sessionmaker[AsyncSession], own_erp_sim: ErpSim, tmp_path: Path
) -> None:
    data = yaml.safe_load(DEFAULT_MAPPING_FILE.read_text())
    del data["endpoints"]["activity"]
    del data["entities"]["activity"]
    path = tmp_path / "no-852.yaml"
    path.write_text(yaml.safe_dump(data))
    settings = own_erp_sim.settings(erp_mapping_file=path)
    http = build_http_client(settings)
    client = ErpClient(
        http, base_url=own_erp_sim.base_url, api_key=own_erp_sim.api_key, mapping=load_mapping(path)
    )
    try:
        customer_id = await _customer(sessions)
        days = []
        for _ in range(3):
            days.append((await sync_customer(sessions, client, customer_id)).as_of)
            own_erp_sim.world.advance(7)
    finally:
        await http.aclose()
    async with sessions() as session:
        snapshot = await session.get(Snapshot, customer_id)
    assert snapshot is not None and snapshot.consumption_through is None
    products = await _products(sessions, customer_id)
    assert all(p.consumption is None for p in products)
    counted = [p for p in products if p.stock_on_hand is not None]
    assert counted and all(
        [c[0] for c in p.stock_counts or []] == [d.toordinal() for d in days] for p in counted
    )
    await recommend(sessions, customer_id)
    products = await _products(sessions, customer_id)
    assert {p.history_source for p in products if p.weekly_forecast} <= {"snapshots", "shipments"}


async def test_our_approved_orders_correct_the_shipment_history_and_deliveries_feed_lead_time(
    sessions: async_sessionmaker[AsyncSession], own_erp_client: ErpClient
) -> None:
    """The cartons an approved line carries beyond its demand-driven need (rounding,
    pull-forward) are a shipment correction; delivered orders are the order history."""
    customer_id = await _customer(sessions)
    await sync_customer(sessions, own_erp_client, customer_id)
    version = await recommend(sessions, customer_id)
    line = next(line for line in version.lines if line.explanation is not None)
    assert line.explanation is not None
    extra = 2 * line.pack_size
    async with unit_of_work(sessions) as session:
        header = await recommendations_repo.get_header(session, customer_id, version.version)
        assert header is not None
        await orders_repo.create_order(
            session,
            customer_id=customer_id,
            status=OrderStatus.SUBMITTED,
            source=OrderSource.RESTOCK,
            ordered_on=version.as_of,
            lines=[{"product_code": line.product_code, "quantity": line.quantity + extra}],
            actor="test",
            recommendation_id=header.id,
            recommendation_version=version.version,
        )
    async with sessions() as session:
        inp, _ = await plan_input(session, customer_id)
    [correction] = [c for c in inp.shipment_corrections if c.product_code == line.product_code]
    need = line.explanation.need_cartons
    assert correction.excess_cartons == line.quantity + extra - need
    assert correction.weekly_forecast == pytest.approx(line.explanation.forecast_weekly)
    assert correction.ordered_on == version.as_of
    delivered = [o for o in inp.order_history]
    assert delivered and all(o.status == "delivered" and o.delivered_on for o in delivered)


async def test_cancelled_orders_reach_the_plan_for_first_lots(
    sessions: async_sessionmaker[AsyncSession], own_erp_client: ErpClient
) -> None:
    """A cancelled order is in the plan's input (a product never stocked whose last order it
    was gets that lot again), and it changes the input's fingerprint."""
    customer_id = await _customer(sessions)
    await sync_customer(sessions, own_erp_client, customer_id)
    async with sessions() as session:
        inp, before = await plan_input(session, customer_id)
    code = inp.products[0].code
    async with unit_of_work(sessions) as session:
        await orders_repo.create_order(
            session,
            customer_id=customer_id,
            status=OrderStatus.CANCELLED,
            source=OrderSource.ERP,
            ordered_on=inp.as_of - timedelta(days=3),
            lines=[{"product_code": code, "quantity": 48}],
            actor="test",
            erp_order_number="SO-CANCELLED-1",
        )
    async with sessions() as session:
        inp, after = await plan_input(session, customer_id)
    ours = [o for o in inp.cancelled_orders if o.order_number == "SO-CANCELLED-1"]
    assert [(o.status, o.lines[0].product_code, o.lines[0].quantity) for o in ours] == [
        ("cancelled", code, 48)
    ]
    assert all(o.status == "cancelled" for o in inp.cancelled_orders)
    assert after != before
