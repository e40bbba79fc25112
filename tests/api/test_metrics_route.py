"""The API's /metrics: the token when one is set, and labels no caller can multiply."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from webapp import create_app


def _series(text: str, name: str) -> list[dict[str, str]]:
    return [
        s.labels
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    ]


async def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_a_metrics_token_is_asked_for_when_set(app_settings: Settings) -> None:
    app = create_app(app_settings.model_copy(update={"metrics_token": "s3cret-token"}))
    async with app.router.lifespan_context(app), await _client(app) as api:
        assert (await api.get("/metrics")).status_code == 401
        wrong = await api.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
        right = await api.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert right.status_code == 200
        assert "restock_http_requests_total" in right.text


async def test_paths_and_methods_a_caller_invents_do_not_become_series(
    api_client: httpx.AsyncClient,
) -> None:
    for n in range(3):
        await api_client.get(f"/api/customers/{900 + n}/products")  # 401: one template
        await api_client.request(f"BREW{n}", "/healthz")
        await api_client.get(f"/no/such/page/{n}")
    text = (await api_client.get("/metrics")).text
    labels = _series(text, "restock_http_requests_total")
    routes = {lab["route"] for lab in labels}
    assert "/api/customers/{customer_id}/products" in routes and "unmatched" in routes
    assert not any("900" in r or "/no/such" in r for r in routes)
    methods = {lab["method"] for lab in labels}
    assert "OTHER" in methods and not any(m.startswith("BREW") for m in methods)


def _count(text: str, route: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "restock_http_requests_total" and s.labels["route"] == route
    )


async def test_request_metrics_can_be_turned_off(app_settings: Settings) -> None:
    app = create_app(app_settings.model_copy(update={"request_metrics": False}))
    async with app.router.lifespan_context(app), await _client(app) as api:
        before = _count((await api.get("/metrics")).text, "/healthz")
        for _ in range(3):
            await api.get("/healthz")
        after = (await api.get("/metrics")).text
        assert _count(after, "/healthz") == before
        assert "process_cpu_seconds_total" in after  # the process's own figures stay
    counted = create_app(app_settings)
    async with counted.router.lifespan_context(counted), await _client(counted) as api:
        await api.get("/healthz")
        assert _count((await api.get("/metrics")).text, "/healthz") == before + 1
