"""Unauthenticated disk fill: every body is limited (413 past RESTOCK_MAX_REQUEST_BYTES), and a
login's username is limited to what the JSON API accepts, so nothing large is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import LoginFailure

TWO_MB = 2 * 1024 * 1024


async def _failures(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


async def test_a_two_megabyte_login_is_refused_unread(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    form = await api_client.post("/login", data={"username": "x" * TWO_MB, "password": "p"})
    assert form.status_code == 413, form.text[:200]
    assert form.json()["error"] == "payload_too_large"
    assert "RESTOCK_MAX_REQUEST_BYTES" in form.json()["detail"]
    assert form.headers["x-request-id"]
    json_login = await api_client.post(
        "/api/auth/login", json={"username": "x" * TWO_MB, "password": "p"}
    )
    assert json_login.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(40):
            yield b"username=" + b"y" * 64 * 1024

    streamed = await api_client.post(
        "/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413
    streamed_json = await api_client.post(  # read by FastAPI's own body parsing
        "/api/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed_json.status_code == 413, streamed_json.text
    assert streamed_json.json()["error"] == "payload_too_large"
    assert await _failures(sessions) == 0


async def test_a_long_username_is_refused_and_not_stored(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    long_name = "u" * 121
    form = await api_client.post("/login", data={"username": long_name, "password": "secret"})
    assert form.status_code == 422
    assert "at most 120 characters" in form.text
    assert long_name not in form.text  # not echoed back either
    json_login = await api_client.post(
        "/api/auth/login", json={"username": long_name, "password": "secret"}
    )
    assert json_login.status_code == 422 and json_login.json()["field"] == "username"
    assert await _failures(sessions) == 0
    ok_size = await api_client.post("/login", data={"username": "u" * 120, "password": "s"})
    assert ok_size.status_code == 401  # within the limit: checked (and counted) as usual
    assert await _failures(sessions) == 3


async def test_a_query_parameter_given_twice_is_refused_naming_it(
    api_client: httpx.AsyncClient,
) -> None:
    answer = await api_client.get(
        "/api/audit", params=[("action", "null"), ("action", "settings.updated")]
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid_input" and body["field"] == "action"
    assert "given 2 times" in body["detail"]
    assert answer.headers["x-request-id"]
    once = await api_client.get("/api/audit", params={"action": "settings.updated"})
    assert once.status_code == 401  # not refused for its query: it needs an ops login
