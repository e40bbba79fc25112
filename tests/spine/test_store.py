from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from store.customers import count_customers, upsert_customer
from store.db import create_engine, create_session_factory, unit_of_work
from store.migrate import current_head, upgrade_async
from store.models import Customer


async def test_migrations_reach_head(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert version == current_head()
    assert "customers" in tables


async def test_upsert_creates_then_updates(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessions) as session:
        first = await upsert_customer(session, erp_code="C1", name="Acme", timezone="UTC")
    async with unit_of_work(sessions) as session:
        second = await upsert_customer(
            session, erp_code="C1", name="Acme Ltd", timezone="Europe/Berlin"
        )
    assert first.id == second.id
    async with sessions() as session:
        row = await session.scalar(select(Customer).where(Customer.erp_code == "C1"))
        assert row is not None
        assert (row.name, row.timezone) == ("Acme Ltd", "Europe/Berlin")
        assert await count_customers(session) == 1


async def test_unit_of_work_rolls_back_everything_on_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessions) as session:
        await upsert_customer(session, erp_code="KEEP", name="Kept", timezone="UTC")
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as session:
            session.add(Customer(erp_code="NEW", name="New", timezone="UTC"))
            session.add(Customer(erp_code="KEEP", name="Duplicate", timezone="UTC"))
            await session.flush()
    async with sessions() as session:
        codes = sorted(await session.scalars(select(Customer.erp_code)))
    assert codes == ["KEEP"]


async def test_models_match_the_migrations(db_engine: AsyncEngine) -> None:
    """Every model change comes with a migration (what `alembic check` would say)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from store.base import Base

    async with db_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    assert diff == []


async def test_concurrent_read_then_write_transactions_wait_their_turn(tmp_path: Path) -> None:
    """20 transactions that read, then write, at once: none fails with 'database is locked'
    on SQLite (each takes the write lock when it begins)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    factory = create_session_factory(engine)

    async def read_then_write(n: int) -> None:
        async with unit_of_work(factory) as session:
            await count_customers(session)
            await asyncio.sleep(0.01)
            await upsert_customer(session, erp_code=f"C{n}", name=f"c{n}", timezone="UTC")

    try:
        await asyncio.gather(*(read_then_write(n) for n in range(20)))
        async with factory() as session:
            assert await count_customers(session) == 20
    finally:
        await engine.dispose()
