"""Settings made before the first sync (a cycle started at once) follow the ERP's lead time
and container size, until a person sets them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from erp.client import ErpClient
from services.sync import sync_customer
from store import customer_settings as settings_repo
from store.customers import upsert_customer
from store.db import unit_of_work
from tests.plugins.erp_sim import ErpSim


async def test_defaults_made_before_the_first_sync_follow_the_erp_until_ops_set_them(
    sessions: async_sessionmaker[AsyncSession], erp_client: ErpClient, erp_sim: ErpSim
) -> None:
    profile = erp_sim.world.customer("K-10040").profile
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code="K-10040", name="K", timezone="UTC")
        row = await settings_repo.get_or_create(session, customer.id)  # defaults, as a start
        customer_id = customer.id
        assert (row.lead_time_weeks, row.container_capacity_cartons) == (10, 90_000)
    assert (profile.lead_time_weeks, profile.container_capacity_cartons) != (10, 90_000)

    await sync_customer(sessions, erp_client, customer_id)
    async with sessions() as session:
        row = await settings_repo.get_or_create(session, customer_id)
        assert row.lead_time_weeks == profile.lead_time_weeks
        assert row.container_capacity_cartons == profile.container_capacity_cartons

    async with unit_of_work(sessions) as session:
        await settings_repo.update(
            session, customer_id, {"container_capacity_cartons": 12_345}, updated_by="user:ops"
        )
    await sync_customer(sessions, erp_client, customer_id)
    async with sessions() as session:
        row = await settings_repo.get_or_create(session, customer_id)
        assert row.container_capacity_cartons == 12_345  # a person's choice stays
