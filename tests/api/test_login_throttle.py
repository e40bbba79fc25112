"""Login throttling that holds under a burst and cannot be turned against the owner.

An attempt is counted before its password is checked (each step committed), so 80 guesses
sent at once get no more checks than guesses sent one by one; a stranger guessing from
elsewhere slows only himself; `unlock` lets a user in at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Unauthorized
from services.accounts import LoginThrottled, ThrottlePolicy, authenticate, unlock
from store.base import utcnow
from store.db import unit_of_work
from store.models import LoginFailure, Role
from tests.api.conftest import PASSWORD, add_user

POLICY = ThrottlePolicy()
OWNER, STRANGER = "10.0.0.7", "203.0.113.9"


async def test_eighty_guesses_at_once_get_no_more_checks_than_one_by_one(
    api_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops", Role.OPS)

    async def guess(password: str) -> int:
        response = await api_client.post(
            "/api/auth/login", json={"username": "ops", "password": password}
        )
        return response.status_code

    statuses = await asyncio.gather(*(guess(f"wrong guess {i:02d}!") for i in range(80)))
    checked = [s for s in statuses if s != 429]
    assert len(checked) <= POLICY.free_guesses, sorted(statuses)
    assert set(statuses) <= {401, 429}
    async with sessions() as session:
        failures = await session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.key == "user:ops")
        )
    assert failures == len(checked)  # the refused ones were not counted as guesses
    print(f"80 concurrent guesses: {len(checked)} checked, {statuses.count(429)} refused")


async def test_a_stranger_elsewhere_cannot_lock_the_owner_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_user(sessions, "buyer", Role.OPS)
    slow = ThrottlePolicy(first_delay=timedelta(minutes=1))  # no race with the clock
    outcomes = []
    for _ in range(30):
        try:
            await authenticate(
                sessions, username="buyer", password="nope", client=STRANGER, policy=slow
            )
        except LoginThrottled:
            outcomes.append(429)
        except Unauthorized:
            outcomes.append(401)
    assert outcomes[: slow.free_guesses] == [401] * slow.free_guesses
    assert set(outcomes[slow.free_guesses :]) == {429}  # the stranger waits
    user = await authenticate(
        sessions, username="buyer", password=PASSWORD, client=OWNER, policy=slow
    )
    assert user.username == "buyer"  # the owner does not


async def test_the_account_cap_does_not_hold_a_client_the_owner_used_before(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Guesses from many clients fill the account's cap; the owner's usual device still
    logs in, a device never used before waits."""
    await add_user(sessions, "buyer", Role.OPS)
    policy = ThrottlePolicy(per_account=6)
    await authenticate(sessions, username="buyer", password=PASSWORD, client=OWNER, policy=policy)
    for i in range(policy.per_account):
        with pytest.raises(Unauthorized):
            await authenticate(
                sessions, username="buyer", password="x", client=f"198.51.100.{i}", policy=policy
            )
    with pytest.raises(LoginThrottled):
        await authenticate(
            sessions, username="buyer", password=PASSWORD, client="192.0.2.1", policy=policy
        )
    user = await authenticate(
        sessions, username="buyer", password=PASSWORD, client=OWNER, policy=policy
    )
    assert user.username == "buyer"


async def test_each_further_failure_doubles_the_wait(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_user(sessions, "buyer", Role.OPS)
    now = utcnow()

    async def attempt(at: timedelta, password: str = "nope") -> int:
        try:
            await authenticate(
                sessions, username="buyer", password=password, client=OWNER, now=now + at
            )
        except LoginThrottled as throttled:
            return -throttled.retry_after_seconds
        except Unauthorized:
            return 401
        return 200

    for i in range(POLICY.free_guesses):
        assert await attempt(timedelta(milliseconds=i)) == 401
    t = timedelta(milliseconds=POLICY.free_guesses)
    waits = []
    for _ in range(4):
        refused = await attempt(t)
        assert refused < 0, refused  # must wait ...
        waits.append(-refused)
        t += timedelta(seconds=-refused)
        assert await attempt(t) == 401  # ... and is checked once the wait is over
    assert waits == [1, 2, 4, 8], waits
    assert await attempt(t, PASSWORD) < 0  # the right password waits too, from this client
    async with unit_of_work(sessions) as session:
        assert await unlock(session, "Buyer", actor="cli") >= POLICY.free_guesses
    assert await attempt(t, PASSWORD) == 200


@pytest.mark.parametrize("cap", ["per_client", "per_account"])
async def test_caps_across_accounts_and_clients(
    sessions: async_sessionmaker[AsyncSession], cap: str
) -> None:
    """One client trying many accounts, or many clients one account, is capped."""
    policy = ThrottlePolicy(per_client=6, per_account=8)
    limit = getattr(policy, cap)
    for i in range(limit):
        name, client = ("ops", f"198.51.100.{i}") if cap == "per_account" else (f"u{i}", OWNER)
        with pytest.raises(Unauthorized):
            await authenticate(sessions, username=name, password="x", client=client, policy=policy)
    name, client = ("ops", "198.51.100.250") if cap == "per_account" else ("fresh", OWNER)
    with pytest.raises(LoginThrottled) as refused:
        await authenticate(sessions, username=name, password="x", client=client, policy=policy)
    assert 1 <= refused.value.retry_after_seconds <= 15 * 60 + 1
