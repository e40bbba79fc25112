"""pytest plugin: the ERP simulator on a free loopback port, shared by every test layer.

`erp_sim` (session) serves `SimWorld.demo` from a uvicorn thread; `erp_client` (per test) is
the connector bound to it. Tests that inject faults should use `erp_sim.faults(...)`, which
clears them afterwards, or call `erp_sim.reset_faults()`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from core.settings import Environment, Settings
from erp.client import ErpClient, build_http_client
from erp.simulator.app import create_app
from erp.simulator.faults import FaultConfig
from erp.simulator.server import ServerThread
from erp.simulator.world import SimWorld

SIM_SEED = 42
SIM_API_KEY = "test-erp-key"
SIM_ADMIN_KEY = "test-erp-admin-key"
SIM_WEBHOOK_SECRET = "test-erp-webhook-secret"


@dataclass
class ErpSim:
    base_url: str
    api_key: str
    admin_key: str
    world: SimWorld
    server: ServerThread

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"X-Admin-Key": self.admin_key}

    def reset_faults(self) -> None:
        self.world.faults.reset()

    def set_faults(self, **config: Any) -> None:
        self.world.faults.set(FaultConfig(**config))

    @contextmanager
    def faults(self, **config: Any) -> Iterator[None]:
        """`with erp_sim.faults(error_rate=1.0): ...` — cleared on exit, even on failure."""
        self.set_faults(**config)
        try:
            yield
        finally:
            self.reset_faults()

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointing Restock at this simulator."""
        values: dict[str, Any] = {
            "env": Environment.TEST,
            "erp_base_url": self.base_url,
            "erp_api_key": self.api_key,
            "erp_admin_key": self.admin_key,
            "erp_webhook_secret": SIM_WEBHOOK_SECRET,
            "erp_timeout_seconds": 5.0,
        }
        return Settings(**{**values, **overrides})

    def admin(self) -> httpx.AsyncClient:
        """An httpx client for the admin API (`async with erp_sim.admin() as admin:`)."""
        return httpx.AsyncClient(base_url=self.base_url, headers=self.admin_headers)


def start_erp_sim(
    world: SimWorld | None = None,
    *,
    days_per_minute: float = 0.0,
    webhook_url: str | None = None,
    webhook_secret: str = SIM_WEBHOOK_SECRET,
) -> ErpSim:
    """Start a simulator of one's own (e.g. a test that moves the clock); call `.server.stop()`.
    With `webhook_url` it pushes its order events there, signed with `webhook_secret`."""
    world = world if world is not None else SimWorld.demo(SIM_SEED, date.today())
    app = create_app(
        world,
        api_key=SIM_API_KEY,
        admin_key=SIM_ADMIN_KEY,
        days_per_minute=days_per_minute,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret if webhook_url else None,
    )
    server = ServerThread(app).start()
    return ErpSim(server.base_url, SIM_API_KEY, SIM_ADMIN_KEY, world, server)


@pytest.fixture(scope="session")
def erp_sim() -> Iterator[ErpSim]:
    sim = start_erp_sim()
    try:
        yield sim
    finally:
        sim.server.stop()


@pytest.fixture
def own_erp_sim() -> Iterator[ErpSim]:
    """A simulator of this test's own at today's date. The shared one's clock is moved by
    other tests (250 days on, a generated customer has long run dry and orders nothing)."""
    sim = start_erp_sim()
    try:
        yield sim
    finally:
        sim.server.stop()


@asynccontextmanager
async def connected(sim: ErpSim) -> AsyncIterator[ErpClient]:
    http = build_http_client(sim.settings())
    try:
        yield ErpClient(http, base_url=sim.base_url, api_key=sim.api_key)
    finally:
        await http.aclose()
        sim.reset_faults()


@pytest.fixture
async def erp_client(erp_sim: ErpSim) -> AsyncIterator[ErpClient]:
    async with connected(erp_sim) as client:
        yield client


@pytest.fixture
async def own_erp_client(own_erp_sim: ErpSim) -> AsyncIterator[ErpClient]:
    async with connected(own_erp_sim) as client:
        yield client


async def new_customer(sim: ErpSim, code: str | None = None) -> str:
    """A small generated customer (20 products, seed 3), by default with a code of its own.
    What it holds depends on the code too: a test that needs it to order names a code."""
    code = code or f"T-{uuid.uuid4().hex[:8].upper()}"
    async with sim.admin() as admin:
        response = await admin.post(
            "/admin/customers", json={"code": code, "n_products": 20, "seed": 3}
        )
    assert response.status_code == 201, response.text
    return code


@pytest.fixture
async def fresh_customer(erp_sim: ErpSim) -> str:
    """A small generated customer of this test's own on the shared simulator."""
    return await new_customer(erp_sim)
