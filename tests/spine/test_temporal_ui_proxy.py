"""The Temporal UI behind the ops login: the API forwards /ops/temporal/... to a real UI
server (the dev server's) for ops only; customers and strangers get nothing of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.auth import tokens
from core.settings import Settings
from core.temporal import temporal_cli_path
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import Role
from tests.api.conftest import add_user, bearer
from tests.plugins.ports import free_port
from webapp import create_app


@pytest.fixture
async def ui_upstream() -> AsyncIterator[str]:
    """A dev server with its Web UI on a port of its own."""
    port = free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        ui=True,
        ui_port=port,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await env.shutdown()


async def test_only_ops_see_the_temporal_ui(
    app_settings: Settings, sessions: async_sessionmaker[AsyncSession], ui_upstream: str
) -> None:
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code="UI-1", name="UI", timezone="UTC")
    ops = await add_user(sessions, "ops", Role.OPS)
    buyer = await add_user(sessions, "buyer", Role.CUSTOMER, customer.id)
    settings = app_settings.model_copy(update={"temporal_ui_upstream": ui_upstream})
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as http,
    ):
        as_ops = bearer(tokens.issue(settings, ops).token)
        page = await http.get("/ops/temporal/", headers=as_ops)
        assert page.status_code == 200, page.text[:300]
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["x-frame-options"] in ("DENY", "SAMEORIGIN")  # never framed
        assert page.headers["x-content-type-options"] == "nosniff"
        for _ in range(100):  # the UI's server connects to Temporal in its own time
            namespaces = await http.get("/ops/temporal/api/v1/namespaces", headers=as_ops)
            if namespaces.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert namespaces.status_code == 200, namespaces.text
        assert "default" in namespaces.text  # the UI's own API, through the proxy

        as_buyer = bearer(tokens.issue(settings, buyer).token)
        refused = await http.get("/ops/temporal/api/v1/namespaces", headers=as_buyer)
        assert refused.status_code == 403 and "default" not in refused.text
        stranger = await http.get("/ops/temporal/api/v1/namespaces")
        assert stranger.status_code == 303  # to the login page, as any ops page
        assert stranger.headers["location"].startswith("/login")

    no_proxy = create_app(app_settings)  # not configured: nothing is served
    async with (
        no_proxy.router.lifespan_context(no_proxy),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=no_proxy), base_url="http://api"
        ) as http,
    ):
        assert (await http.get("/ops/temporal/", headers=as_ops)).status_code == 404
