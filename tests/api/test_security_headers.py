"""Browser security headers on every kind of answer, and the API docs served from this
process (no CDN) with no inline script; in production HSTS is on and the docs are off unless
enabled."""

from __future__ import annotations

import re

import httpx

from api.security_headers import CSP
from core.settings import Settings
from tests.api.conftest import Tenants, bearer
from tests.plugins.production import PRODUCTION
from webapp import create_app


def _secure(response: httpx.Response, *, cached: bool = False) -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CSP, response.url
    assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP
    assert "unsafe-inline" not in CSP.split("style-src-attr")[0]  # no inline script or <style>
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert (headers.get("cache-control") == "no-store") is not cached, response.url
    assert "strict-transport-security" not in headers  # development and tests: plain HTTP


async def test_every_kind_of_answer_carries_the_headers(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    buyer = bearer(tenants.buyer_a)
    answers = {
        "login page": await api_client.get("/login"),
        "portal page": await api_client.get(f"/customers/{tenants.a.customer_id}", headers=buyer),
        "json": await api_client.get("/api/me", headers=buyer),
        "json error": await api_client.get("/api/no/such/route"),
        "refused": await api_client.get("/api/me"),
        "html not found": await api_client.get("/no/such/page"),
        "health": await api_client.get("/healthz"),
        "docs": await api_client.get("/docs"),
    }
    assert answers["portal page"].status_code == 200, answers["portal page"].text[:300]
    assert answers["json"].status_code == 200
    for answer in answers.values():
        _secure(answer)
    _secure(await api_client.get("/static/portal.css"), cached=True)


async def test_the_docs_use_local_assets_and_no_inline_script(
    api_client: httpx.AsyncClient,
) -> None:
    page = await api_client.get("/docs")
    assert page.status_code == 200
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', page.text):
        served = await api_client.get(asset)
        assert served.status_code == 200, asset
    assert (await api_client.get("/openapi.json")).status_code == 200


async def test_production_sends_hsts_and_hides_the_docs_unless_enabled(
    app_settings: Settings,
) -> None:
    for enabled, docs_status in ((None, 404), (True, 200)):
        settings = app_settings.model_copy(update={**PRODUCTION, "api_docs": enabled})
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://api") as client:
            health = await client.get("/healthz")
            assert health.headers["strict-transport-security"].startswith("max-age=")
            assert (await client.get("/docs")).status_code == docs_status
            assert (await client.get("/openapi.json")).status_code == docs_status
