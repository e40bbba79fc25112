"""Login CSRF: a login posted from another site (a cross-site form) is refused before the
password is looked at; the site itself, allowed frontends (JSON login) and non-browser
clients log in as usual."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from store.models import Role
from tests.api.conftest import PASSWORD, add_user
from webapp import create_app

EVIL = "https://evil.example"


async def test_a_cross_site_login_form_is_refused(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "buyer", Role.OPS)
    site = str(api_client.base_url).rstrip("/")
    form = {"username": "buyer", "password": PASSWORD}
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/trap.html"}):
        refused = await api_client.post("/login", data=form, headers=headers)
        assert refused.status_code == 403, headers
        assert "from another site" in refused.text
        assert "restock_session" not in refused.headers.get("set-cookie", "")
        json_refused = await api_client.post("/api/auth/login", json=form, headers=headers)
        assert json_refused.status_code == 403 and json_refused.json()["error"] == (
            "cross_site_login"
        )
    same_site = await api_client.post("/login", data=form, headers={"Origin": site})
    assert same_site.status_code == 303 and "restock_session" in same_site.headers["set-cookie"]
    no_browser = await api_client.post("/api/auth/login", json=form)  # curl: no Origin
    assert no_browser.status_code == 200


async def test_an_allowed_frontend_may_use_the_json_login_only(
    app_settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "buyer", Role.OPS)
    front = "http://127.0.0.1:5173"
    app = create_app(app_settings.model_copy(update={"cors_origins": front}))
    form = {"username": "buyer", "password": PASSWORD}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        api_login = await http.post("/api/auth/login", json=form, headers={"Origin": front})
        assert api_login.status_code == 200, api_login.text
        assert api_login.headers["access-control-allow-origin"] == front
        assert "access-control-allow-credentials" not in api_login.headers
        form_login = await http.post("/login", data=form, headers={"Origin": front})
        assert form_login.status_code == 403  # cookies are for the site itself


def test_a_wildcard_origin_is_refused() -> None:
    with pytest.raises(ValidationError, match="RESTOCK_CORS_ORIGINS lists origins one by one"):
        Settings(cors_origins="*")
