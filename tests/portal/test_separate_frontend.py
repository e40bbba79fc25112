"""A separate frontend on another origin: its page logs in with the JSON API and loads the
dashboard with `fetch` and a Bearer token. The browser lets it when the origin is in
RESTOCK_CORS_ORIGINS, and refuses it (CORS) when not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Page
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from erp.simulator.server import ServerThread
from tests.portal.conftest import ApiServer, LiveStack

PAGE = """<!doctype html>
<html><head><title>frontend</title><script src="/app.js" defer></script></head>
<body><pre id="result">loading</pre></body></html>
"""
# The frontend's code: log in, then read the dashboard with the token (no cookies).
APP_JS = """
const params = new URLSearchParams(location.search);
const api = params.get("api");
async function run() {
  const login = await fetch(api + "/api/auth/login", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: params.get("user"), password: params.get("password")}),
  });
  const token = (await login.json()).access_token;
  const dashboard = await fetch(api + "/api/customers/" + params.get("customer") + "/dashboard", {
    headers: {"Authorization": "Bearer " + token},
  });
  const body = await dashboard.json();
  return "ok " + dashboard.status + " " + body.customer.name;
}
run().then(
  (text) => { document.getElementById("result").textContent = text; },
  (err) => { document.getElementById("result").textContent = "refused " + err; },
);
"""


def _frontend() -> ServerThread:
    async def page(_request: object) -> HTMLResponse:
        return HTMLResponse(PAGE)

    async def app_js(_request: object) -> Response:
        return Response(APP_JS, media_type="text/javascript")

    app = Starlette(routes=[Route("/", page), Route("/app.js", app_js)])
    return ServerThread(app).start()


@dataclass
class Frontends:
    allowed: ServerThread
    other: ServerThread
    api_url: str


@pytest.fixture
async def frontends(live: LiveStack) -> AsyncIterator[Frontends]:
    allowed, other = _frontend(), _frontend()
    settings = live.settings.model_copy(update={"cors_origins": allowed.base_url})
    api = ApiServer(settings)
    api_url = await asyncio.to_thread(api.start)
    try:
        yield Frontends(allowed, other, api_url)
    finally:
        await asyncio.to_thread(api.stop)
        allowed.stop()
        other.stop()


async def _run(page: Page, origin: str, live: LiveStack, api_url: str) -> str:
    query = (
        f"api={api_url}&user={live.a.username}&password={live.a.password}"
        f"&customer={live.a.customer_id}"
    )
    await page.goto(f"{origin}/?{query}")
    result = page.locator("#result")
    await result.filter(has_not_text="loading").wait_for()
    return await result.inner_text()


async def test_an_allowed_frontend_calls_the_api_and_another_is_refused(
    live: LiveStack, page: Page, frontends: Frontends
) -> None:
    allowed = await _run(page, frontends.allowed.base_url, live, frontends.api_url)
    assert allowed == f"ok 200 {live.a.name}", allowed
    refused = await _run(page, frontends.other.base_url, live, frontends.api_url)
    assert refused.startswith("refused TypeError"), refused  # the browser's CORS refusal
