from __future__ import annotations

import httpx
import pytest

from core.settings import Settings
from tests.plugins.erp_sim import ErpSim
from webapp import create_app


async def test_healthz_answers_without_dependencies(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_names_the_erp_when_it_is_down(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["down"] == ["erp"]
    assert body["components"]["database"]["status"] == "up"
    assert body["components"]["temporal"]["status"] == "up"
    assert body["components"]["erp"] == {
        "status": "down",
        "code": "unreachable",
        "detail": "erp is not reachable",
    }
    assert "ConnectError" not in response.text  # the cause is logged, not answered


async def test_readyz_names_temporal_and_database_when_they_are_down(
    app_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = app_settings.model_copy(
        update={
            "temporal_address": "127.0.0.1:9",
            "database_url": "postgresql+asyncpg://nobody@127.0.0.1:9/none",
        }
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        response = await client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["down"] == ["database", "temporal", "erp"]
    assert {c["code"] for c in body["components"].values()} <= {"unreachable", "timeout"}
    assert "127.0.0.1" not in response.text and "nobody" not in response.text
    assert "127.0.0.1:9" in caplog.text  # where it looked is in the log, for ops


async def test_unknown_route_uses_the_error_shape(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/api/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found", "field": None}


async def test_unknown_page_is_the_portals_not_found_page(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-testid="not-found"' in response.text


async def test_readyz_is_ready_when_every_component_is_up(
    app_settings: Settings, erp_sim: ErpSim
) -> None:
    settings = erp_sim.settings(
        database_url=app_settings.database_url, temporal_address=app_settings.temporal_address
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        ready = await client.get("/readyz")
        with erp_sim.faults(outage_seconds=60):
            erp_down = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert {c["status"] for c in ready.json()["components"].values()} == {"up"}
    assert erp_down.status_code == 503
    assert erp_down.json()["down"] == ["erp"]
