"""Login, logout, /me, JWT negatives, throttling and CSRF."""

from __future__ import annotations

import base64
import json
import warnings
from datetime import timedelta

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import tokens
from api.auth.deps import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from core.settings import Settings
from services.accounts import set_disabled
from store.base import utcnow
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import AuditEntry, Role, User
from tests.api.conftest import PASSWORD, add_user, bearer


async def _customer(sessions: async_sessionmaker[AsyncSession], code: str = "C-1") -> int:
    async with unit_of_work(sessions) as session:
        return (await upsert_customer(session, erp_code=code, name=code, timezone="UTC")).id


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


async def test_login_returns_a_token_and_sets_cookies(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    customer_id = await _customer(sessions)
    await add_user(sessions, "Buyer", Role.CUSTOMER, customer_id)
    response = await login(api_client, "  buyer ")
    assert response.status_code == 200
    body = response.json()
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    csrf_cookie = next(c for c in cookies if c.startswith(f"{CSRF_COOKIE}="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "HttpOnly" not in csrf_cookie and body["csrf_token"] in csrf_cookie
    assert body["access_token"] in session_cookie
    me = await api_client.get("/api/me", headers=bearer(body["access_token"]))
    assert me.json() == {
        "id": me.json()["id"],
        "username": "buyer",
        "role": "customer",
        "customer_id": customer_id,
        "customer_role": "approver",  # a customer's user approves, without limit, by default
        "approval_limit": None,
    }
    # The cookie alone authenticates safe requests (httpx kept it from the login).
    assert (await api_client.get("/api/me")).status_code == 200
    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "auth.login" in actions


async def test_wrong_password_unknown_user_and_disabled_user_get_401(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops", Role.OPS)
    assert (await login(api_client, "ops", "wrong password!!")).status_code == 401
    unknown = await login(api_client, "nobody")
    assert unknown.status_code == 401
    assert unknown.json() == {
        "error": "unauthorized",
        "detail": "wrong username or password",
        "field": None,
    }
    token = (await login(api_client, "ops")).json()["access_token"]
    async with unit_of_work(sessions) as session:
        await set_disabled(session, "ops", True, actor="test")
    assert (await login(api_client, "ops")).status_code == 401
    # Disabling revoked the token that was already issued.
    assert (await api_client.get("/api/me", headers=bearer(token))).status_code == 401


async def test_logout_revokes_the_token_and_needs_csrf_with_the_cookie(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops", Role.OPS)
    body = (await login(api_client, "ops")).json()
    refused = await api_client.post("/api/auth/logout")  # cookie only, no CSRF header
    assert refused.status_code == 403
    assert refused.json()["error"] == "csrf_failed"
    wrong = await api_client.post("/api/auth/logout", headers={CSRF_HEADER: "0" * 64})
    assert wrong.status_code == 403
    done = await api_client.post("/api/auth/logout", headers={CSRF_HEADER: body["csrf_token"]})
    assert done.status_code == 200
    assert (
        await api_client.get("/api/me", headers=bearer(body["access_token"]))
    ).status_code == 401


async def test_bearer_requests_need_no_csrf_but_cookie_ones_do(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    customer_id = await _customer(sessions)
    await add_user(sessions, "ops", Role.OPS)
    body = (await login(api_client, "ops")).json()
    url = f"/api/customers/{customer_id}/settings"
    current = (await api_client.get(url)).json()  # GET with the cookie: no CSRF needed
    assert (await api_client.put(url, json=current)).status_code == 403
    csrf_from_cookie = api_client.cookies[CSRF_COOKIE]
    assert (
        await api_client.put(url, json=current, headers={CSRF_HEADER: csrf_from_cookie})
    ).status_code == 200
    api_client.cookies.clear()
    assert (
        await api_client.put(url, json=current, headers=bearer(body["access_token"]))
    ).status_code == 200


async def test_csrf_token_of_another_session_is_refused(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops", Role.OPS)
    first = (await login(api_client, "ops")).json()
    await login(api_client, "ops")  # a second session replaces the cookie
    response = await api_client.post("/api/auth/logout", headers={CSRF_HEADER: first["csrf_token"]})
    assert response.status_code == 403


def _hs512(claims: dict[str, object], secret: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm="HS512")


def _forge(payload: dict[str, object], header: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        raw = json.dumps(data, default=str).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


async def test_bad_tokens_get_401(
    api_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    app_settings: Settings,
) -> None:
    user = await add_user(sessions, "ops", Role.OPS)
    good = tokens.issue(app_settings, user).token
    assert (await api_client.get("/api/me", headers=bearer(good))).status_code == 200
    claims = jwt.decode(good, options={"verify_signature": False})
    secret = app_settings.jwt_secret

    def signed(**changes: object) -> str:
        return jwt.encode({**claims, **changes}, secret, algorithm="HS256")

    now = utcnow()
    header, _payload, signature = good.split(".")
    tampered_payload = (
        base64.urlsafe_b64encode(json.dumps({**claims, "sub": "999"}).encode())
        .rstrip(b"=")
        .decode()
    )
    cases = {
        "expired": signed(
            iat=now - timedelta(hours=2),
            nbf=now - timedelta(hours=2),
            exp=now - timedelta(minutes=1),
        ),
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "alg none": _forge(claims, {"alg": "none", "typ": "JWT"}),
        "wrong audience": signed(aud="someone-else"),
        "wrong issuer": signed(iss="evil"),
        "other secret": jwt.encode(claims, "x" * 64, algorithm="HS256"),
        "HS512": _hs512(claims, secret),
        "missing exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, "HS256"),
        "garbage": "not-a-jwt",
        "future nbf": signed(nbf=now + timedelta(hours=1)),
    }
    for name, token in cases.items():
        response = await api_client.get("/api/me", headers=bearer(token))
        assert response.status_code == 401, name
        assert response.json()["error"] in {"invalid_token", "token_expired"}, name
    assert (await api_client.get("/api/me")).status_code == 401
    api_client.cookies.set(SESSION_COOKIE, cases["alg none"])
    assert (await api_client.get("/api/me")).status_code == 401


async def test_login_is_throttled_per_account(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops", Role.OPS)
    statuses = [(await login(api_client, "ops", "wrong password!!")).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    throttled = await login(api_client, "ops")  # even the right password waits now
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "login_throttled"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 15 * 60 + 1


async def test_login_is_throttled_per_client_across_accounts(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    statuses = [
        (await login(api_client, f"guess-{i % 10}", "wrong password!!")).status_code
        for i in range(21)
    ]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


async def test_a_success_clears_the_account_failures(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops", Role.OPS)
    for _ in range(4):
        assert (await login(api_client, "ops", "wrong password!!")).status_code == 401
    assert (await login(api_client, "ops")).status_code == 200
    for _ in range(4):
        assert (await login(api_client, "ops", "wrong password!!")).status_code == 401
    assert (await login(api_client, "ops")).status_code == 200


async def test_passwords_are_stored_as_argon2id(sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_user(sessions, "ops", Role.OPS)
    async with sessions() as session:
        stored = await session.scalar(select(User.password_hash))
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_customer_users_cannot_use_ops_routes(
    api_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    app_settings: Settings,
) -> None:
    customer_id = await _customer(sessions)
    user = await add_user(sessions, "buyer", Role.CUSTOMER, customer_id)
    token = tokens.issue(app_settings, user).token
    for url in (
        f"/api/customers/{customer_id}/settings",
        f"/api/customers/{customer_id}/data-quality",
        "/api/audit",
    ):
        response = await api_client.get(url, headers=bearer(token))
        assert response.status_code == 403, url
