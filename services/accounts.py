"""Accounts: Argon2id password hashing, users, and login with per-account/per-client throttling."""

from __future__ import annotations

import asyncio
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthorized
from core.settings import Settings
from store import accounts as users_repo
from store import audit
from store.base import utcnow
from store.db import unit_of_work
from store.models import AuditEntry, Customer, CustomerRole, NotifyBy, Role, User

# Argon2id with OWASP's recommended minimum (m=19 MiB, t=2, p=1): about 20 ms on one core,
# so a burst of logins cannot saturate a small API host. Older, weaker hashes are upgraded
# on the next successful login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user does not exist, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12
USERNAME_MAX = 120
PASSWORD_MAX = 1024


@dataclass(frozen=True)
class ThrottlePolicy:
    """How failed logins slow the next ones, counted per key within `window`.

    One client guessing one account (`pair`) gets `free_guesses`, then waits a delay that
    doubles with each further failure (up to `window`): guessing is slow, and a stranger
    elsewhere cannot lock the owner out. A client trying many accounts is capped
    (`per_client`), and so is an account guessed from many clients together (`per_account`:
    high, since reaching it takes a distributed attack; a client the account logged in from
    before is not held by it, and `restock users unlock` lifts it)."""

    window: timedelta = timedelta(minutes=15)
    free_guesses: int = 5
    first_delay: timedelta = timedelta(seconds=1)
    per_client: int = 20
    per_account: int = 100


class LoginThrottled(TooManyRequests):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"too many failed logins; try again in {retry_after_seconds} s", code="login_throttled"
        )
        self.retry_after_seconds = retry_after_seconds


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"passwords need at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def generate_password() -> str:
    return secrets.token_urlsafe(18)


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role,
    customer_id: int | None,
    actor: str,
    approval_grant: ApprovalGrant | None = None,
) -> User:
    """A new user; a customer's user is an approver without a limit unless `approval_grant`
    says otherwise."""
    check_password_strength(password)
    if role is Role.CUSTOMER and customer_id is None:
        raise InvalidInput("a customer user needs a customer", field="customer")
    if role is Role.OPS and customer_id is not None:
        raise InvalidInput("an ops user sees every customer; give no customer", field="customer")
    if customer_id is not None and await session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found", field="customer")
    if await users_repo.find_user(session, username) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    password_hash = await asyncio.to_thread(hash_password, password)
    user = await users_repo.add_user(
        session, username=username, password_hash=password_hash, role=role, customer_id=customer_id
    )
    details: dict[str, str | None] = {"role": role.value}
    if role is Role.CUSTOMER:
        grant = approval_grant or ApprovalGrant()
        _apply_grant(user, grant)
        details |= grant.audited()
    await audit.append(
        session,
        actor=actor,
        action="user.created",
        customer_id=customer_id,
        target_type="user",
        target_id=user.username,
        details=details,
    )
    return user


class ApprovalGrant(BaseModel):
    """What a customer's user may do with recommendations, set by ops."""

    model_config = ConfigDict(extra="forbid")

    customer_role: CustomerRole = Field(
        default=CustomerRole.APPROVER,
        description="viewer (reads) | buyer (edits, proposes) | approver (approves)",
    )
    approval_limit: Decimal | None = Field(
        default=None,
        ge=0,
        le=Decimal("1e12"),
        max_digits=16,
        decimal_places=2,
        description="The most this user approves at once, in the customer's currency; above "
        "it a choice waits for an approver. None: no limit",
    )
    email: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Where proposals waiting for this approver are sent",
    )

    def audited(self) -> dict[str, str | None]:
        return {
            "customer_role": self.customer_role.value,
            "approval_limit": None if self.approval_limit is None else str(self.approval_limit),
            "email": self.email,
        }


def _apply_grant(user: User, grant: ApprovalGrant) -> None:
    user.customer_role = grant.customer_role.value
    user.approval_limit = None if grant.approval_limit is None else str(grant.approval_limit)
    user.email = grant.email


def grant_of(user: User) -> ApprovalGrant:
    return ApprovalGrant(
        customer_role=CustomerRole(user.customer_role or CustomerRole.VIEWER.value),
        approval_limit=None if user.approval_limit is None else Decimal(user.approval_limit),
        email=user.email,
    )


async def set_approval_grant(
    session: AsyncSession, user: User, grant: ApprovalGrant, *, actor: str
) -> User:
    """Change a customer user's role, limit and e-mail (audited, before and after); it
    applies from the user's next request."""
    if user.role != Role.CUSTOMER.value:
        raise InvalidInput("ops users have no customer role", field="username")
    before = grant_of(user)
    _apply_grant(user, grant)
    await audit.append(
        session,
        actor=actor,
        action="user.role_changed",
        customer_id=user.customer_id,
        target_type="user",
        target_id=user.username,
        details={"before": before.audited(), "after": grant.audited()},
    )
    return user


class PhoneBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"phone": "+4915112345678"}]}
    )

    phone: str = Field(
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="The user's WhatsApp number in E.164 (+, country code, number; no spaces), "
        "as ops verified it with the customer",
    )


async def set_phone(session: AsyncSession, user: User, phone: str | None, *, actor: str) -> User:
    """Give a customer user the WhatsApp number ops verified (None: take it away); a number
    belongs to one user. Setting a number opts the user in again (audited)."""
    if user.role != Role.CUSTOMER.value:
        raise InvalidInput("ops users have no WhatsApp number here", field="username")
    if phone is not None:
        holder = await users_repo.find_by_phone(session, phone)
        if holder is not None and holder.id != user.id:
            raise Conflict(f"{phone} is already the number of another user", field="phone")
    before = user.phone
    user.phone = phone
    user.whatsapp_opted_out = False
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="user.phone_set" if phone else "user.phone_removed",
        customer_id=user.customer_id,
        target_type="user",
        target_id=user.username,
        details={"before": before, "after": phone},
    )
    return user


class NotifyByBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"notify_by": "whatsapp"}]}
    )

    notify_by: NotifyBy = Field(
        description="How the user is told of the buyer's messages (ready, reminders, expiry, "
        "order placed, late, delivered): both, email or whatsapp. WhatsApp only still sends "
        "the e-mail while the user has no number or sent STOP"
    )


async def set_notify_by(
    session: AsyncSession, user: User, notify_by: NotifyBy, *, actor: str
) -> User:
    """A customer user's channel preference (audited)."""
    if user.role != Role.CUSTOMER.value:
        raise InvalidInput("ops users are told by e-mail only", field="notify_by")
    before = user.notify_by
    user.notify_by = notify_by.value
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="user.notify_by_set",
        customer_id=user.customer_id,
        target_type="user",
        target_id=user.username,
        details={"before": before, "after": notify_by.value},
    )
    return user


async def set_whatsapp_opt_out(
    session: AsyncSession, user: User, opted_out: bool, *, actor: str
) -> None:
    """STOP (opted out) or START (back in), as the user sent it; audited."""
    user.whatsapp_opted_out = opted_out
    await audit.append(
        session,
        actor=actor,
        action="user.whatsapp_opted_out" if opted_out else "user.whatsapp_opted_in",
        customer_id=user.customer_id,
        target_type="user",
        target_id=user.username,
    )


async def set_disabled(session: AsyncSession, username: str, disabled: bool, *, actor: str) -> User:
    """Disable (or re-enable) a user; disabling also revokes every token already issued."""
    user = await users_repo.find_user(session, username)
    if user is None:
        raise NotFound(f"user {username!r} not found", field="username")
    user.disabled = disabled
    if disabled:
        user.token_version += 1
    await audit.append(
        session,
        actor=actor,
        action="user.disabled" if disabled else "user.enabled",
        customer_id=user.customer_id,
        user_id=None,
        target_type="user",
        target_id=user.username,
    )
    await session.flush()
    return user


async def reset_password(
    session: AsyncSession, username: str, password: str, *, actor: str
) -> User:
    """Set a new password: every session of the user ends, and its failed logins are
    forgotten (the owner may log in at once with the new password)."""
    user = await users_repo.find_user(session, username)
    if user is None:
        raise NotFound(f"user {username!r} not found", field="username")
    check_password_strength(password)
    user.password_hash = await asyncio.to_thread(hash_password, password)
    user.token_version += 1
    await users_repo.clear_login_failures_of_account(session, account_key(username))
    await audit.append(
        session,
        actor=actor,
        action="user.password_reset",
        customer_id=user.customer_id,
        target_type="user",
        target_id=user.username,
    )
    await session.flush()
    return user


def account_key(username: str) -> str:
    return f"user:{users_repo.normalise_username(username)}"


def throttle_keys(username: str, client: str) -> tuple[str, str, str]:
    """(account and client, client, account): the keys a login attempt counts under."""
    account = account_key(username)
    return f"{account}|ip:{client}", f"ip:{client}", account


async def authenticate(
    sessions: async_sessionmaker[AsyncSession],
    *,
    username: str,
    password: str,
    client: str,
    policy: ThrottlePolicy = ThrottlePolicy(),
    now: datetime | None = None,
) -> User:
    """Check a login. Raises `LoginThrottled` (429) while recent failures ask this attempt to
    wait (see `ThrottlePolicy`), and `Unauthorized` (401) for a wrong name or password.

    The attempt is counted before the password is checked, each step in its own committed
    transaction: concurrent guesses each see those committed before them, so a burst gets
    no more checks than one guess after another would."""
    now = now or utcnow()
    pair_key, _, account_key = keys = throttle_keys(username, client)
    async with unit_of_work(sessions) as session:
        attempt = await users_repo.record_login_failures(session, list(keys), now)
    async with unit_of_work(sessions) as session:
        wait = await _wait_needed(session, keys, attempt, policy, now)
        if wait is not None:
            await users_repo.delete_login_failures(session, attempt)  # refused: not a guess
    if wait is not None:
        raise LoginThrottled(wait)
    async with unit_of_work(sessions) as session:
        user = await users_repo.find_user(session, username)
        stored_hash = user.password_hash if user is not None else _DUMMY_HASH
        ok = await asyncio.to_thread(verify_password, stored_hash, password)
        if ok and user is not None and not user.disabled:
            user.last_login_at = now
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = await asyncio.to_thread(hash_password, password)
            await users_repo.clear_login_failures(session, [pair_key, account_key])
            await users_repo.delete_login_failures(session, attempt)
            await audit.append(
                session,
                actor=f"user:{user.username}",
                action="auth.login",
                user_id=user.id,
                customer_id=user.customer_id,
                details={"client": client},
            )
            return user
        await users_repo.prune_login_failures(session, now - policy.window * 4)
    raise Unauthorized("wrong username or password")


async def _wait_needed(
    session: AsyncSession,
    keys: tuple[str, str, str],
    attempt: list[int],
    policy: ThrottlePolicy,
    now: datetime,
) -> int | None:
    """Seconds this attempt must wait, or None to check it."""
    pair_key, client_key, account_key = keys
    since = now - policy.window
    waits: list[timedelta] = []
    pair = await users_repo.login_failures_since(session, pair_key, since, excluding=attempt)
    if pair.count >= policy.free_guesses and pair.latest is not None:
        doublings = min(pair.count - policy.free_guesses, 20)
        delay = min(policy.first_delay * 2**doublings, policy.window)
        waits.append(pair.latest + delay - now)
    for key, cap in ((client_key, policy.per_client), (account_key, policy.per_account)):
        seen = await users_repo.login_failures_since(session, key, since, excluding=attempt)
        if seen.count >= cap and seen.oldest is not None:
            if key == account_key and await _known_client(session, account_key, client_key):
                continue  # guesses from elsewhere do not lock the owner's own device out
            waits.append(seen.oldest + policy.window - now)
    wait = max(waits, default=timedelta(0))
    return max(1, math.ceil(wait.total_seconds())) if wait > timedelta(0) else None


KNOWN_CLIENT_LOGINS = 50


async def _known_client(session: AsyncSession, account_key: str, client_key: str) -> bool:
    """Whether the account logged in from this client among its recent logins (the audit
    log's `auth.login` entries), asked only once the account's cap is reached."""
    user = await users_repo.find_user(session, account_key.removeprefix("user:"))
    if user is None:
        return False
    client = client_key.removeprefix("ip:")
    recent = await session.scalars(
        select(AuditEntry.details)
        .where(AuditEntry.action == "auth.login", AuditEntry.user_id == user.id)
        .order_by(AuditEntry.id.desc())
        .limit(KNOWN_CLIENT_LOGINS)
    )
    return any(details.get("client") == client for details in recent)


async def unlock(session: AsyncSession, username: str, *, actor: str) -> int:
    """Forget every recent failed login of `username` (from any client); returns how many."""
    account = account_key(username)
    cleared = await users_repo.clear_login_failures_of_account(session, account)
    await audit.append(
        session,
        actor=actor,
        action="auth.unlocked",
        target_type="user",
        target_id=account.removeprefix("user:"),
        details={"failures_cleared": cleared},
    )
    return cleared


def whatsapp_unreachable(user: User, settings: Settings) -> str | None:
    """Why Restock's WhatsApp messages do not reach `user`, in words; None when they do.
    While it does not, a user who chose WhatsApp only is still e-mailed."""
    if not settings.whatsapp_configured:
        return "your supplier has not set up WhatsApp"
    if user.phone is None:
        return "no WhatsApp number is on your account: ask your supplier to add it"
    if user.whatsapp_opted_out:
        return "you replied STOP: send START on WhatsApp to hear from Restock again"
    return None
