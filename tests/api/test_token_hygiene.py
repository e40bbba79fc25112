"""Token hygiene: a lifetime cap checked on every decode, logout of this session or of all,
the `test` environment's committed secret kept to the test suite, one line for bad settings."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import tokens
from core.errors import Unauthorized
from core.settings import Environment, Settings
from store.base import utcnow
from store.models import Role
from tests.api.conftest import PASSWORD, add_user, bearer

ROOT = Path(__file__).resolve().parents[2]


async def _login(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_a_token_that_lives_longer_than_allowed_is_refused(
    api_client: httpx.AsyncClient,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user = await add_user(sessions, "ops", Role.OPS)
    now = utcnow()
    claims = jwt.decode(
        tokens.issue(app_settings, user).token,
        options={"verify_signature": False},
    )
    for minutes, expected in ((app_settings.jwt_expiry_minutes, 200), (7 * 24 * 60, 401)):
        signed = jwt.encode(
            {**claims, "iat": now, "nbf": now, "exp": now + timedelta(minutes=minutes)},
            app_settings.jwt_secret,
            algorithm="HS256",
        )
        response = await api_client.get("/api/me", headers=bearer(signed))
        assert response.status_code == expected, (minutes, response.text)


async def test_logout_ends_this_session_and_everywhere_ends_all(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops", Role.OPS)
    laptop, phone, tablet = [await _login(api_client, "ops") for _ in range(3)]
    api_client.cookies.clear()
    assert (await api_client.post("/api/auth/logout", headers=bearer(laptop))).status_code == 200
    assert (await api_client.get("/api/me", headers=bearer(laptop))).status_code == 401
    assert (await api_client.get("/api/me", headers=bearer(phone))).status_code == 200
    everywhere = await api_client.post(
        "/api/auth/logout", headers=bearer(phone), params={"everywhere": "true"}
    )
    assert everywhere.status_code == 200
    for token in (phone, tablet):
        assert (await api_client.get("/api/me", headers=bearer(token))).status_code == 401
    assert (await api_client.get("/api/me", headers=bearer(await _login(api_client, "ops")))
            ).status_code == 200  # fmt: skip


async def test_a_remembered_token_still_expires_and_still_needs_its_signature(
    app_settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """`tokens.decode` remembers tokens it verified: the expiry is checked on every call, and
    only the very text it verified, under the same secret, is remembered."""
    user = await add_user(sessions, "buyer", Role.OPS)
    issued = tokens.issue(app_settings, user)
    first = tokens.decode(app_settings, issued.token)
    assert (first.user_id, first.jti) == (user.id, issued.claims.jti)
    assert tokens.decode(app_settings, issued.token, now=first.expires_at - timedelta(seconds=1))
    with pytest.raises(Unauthorized) as expired:
        tokens.decode(app_settings, issued.token, now=first.expires_at)
    assert expired.value.code == "token_expired"
    header, payload, signature = issued.token.split(".")
    forged = f"{header}.{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    other_secret = app_settings.model_copy(update={"jwt_secret": "x" * 48})
    for settings, token in ((app_settings, forged), (other_secret, issued.token)):
        with pytest.raises(Unauthorized) as refused:
            tokens.decode(settings, token)
        assert refused.value.code == "invalid_token"


def test_jwt_lifetime_is_at_most_a_day() -> None:
    with pytest.raises(ValidationError, match="jwt_expiry_minutes"):
        Settings(jwt_expiry_minutes=7 * 24 * 60)


def _restock(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RESTOCK_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_settings_stop_a_command_with_one_line() -> None:
    production = _restock("api", RESTOCK_ENV="production")
    assert production.returncode == 2
    lines = production.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in production.stderr, production.stderr
    assert lines[0].startswith("restock: invalid configuration:")
    assert "RESTOCK_JWT_SECRET" in lines[0]
    test_env = _restock("api", RESTOCK_ENV="test")  # outside the test suite
    assert test_env.returncode == 2
    assert "only for the test suite" in test_env.stderr
    assert Settings(env=Environment.TEST).env is Environment.TEST  # inside it: fine


async def test_two_logouts_of_one_session_at_once_both_succeed(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops", Role.OPS)
    token = await _login(api_client, "ops")
    api_client.cookies.clear()
    answers = await asyncio.gather(
        *(api_client.post("/api/auth/logout", headers=bearer(token)) for _ in range(2))
    )
    # Each is a logout of a live session or of one just ended: never a 500.
    assert {a.status_code for a in answers} <= {200, 401}, [a.text for a in answers]
    assert 200 in {a.status_code for a in answers}
    assert (await api_client.get("/api/me", headers=bearer(token))).status_code == 401
