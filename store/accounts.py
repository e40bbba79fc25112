"""Users and login failures. Password hashing lives in `services.accounts`, not here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.base import dialect_insert, utcnow
from store.db import execute_core
from store.models import CustomerRole, LoginFailure, NotifyBy, RevokedToken, Role, User


def normalise_username(username: str) -> str:
    return username.strip().lower()


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


@dataclass(frozen=True)
class SessionUser:
    """What authenticating a request needs of a user (no password hash, no ORM object)."""

    id: int
    username: str
    role: str
    customer_id: int | None
    disabled: bool
    token_version: int
    token_revoked: bool
    """The token's session was logged out (`revoke_token`)."""
    customer_role: str | None
    approval_limit: str | None


_users = User.__table__.c
_SESSION_USER = select(
    _users.id,
    _users.username,
    _users.role,
    _users.customer_id,
    _users.disabled,
    _users.token_version,
    exists().where(RevokedToken.__table__.c.jti == bindparam("jti")).label("token_revoked"),
    _users.customer_role,
    _users.approval_limit,
).where(_users.id == bindparam("user_id"))


async def session_user(session: AsyncSession, user_id: int, jti: str) -> SessionUser | None:
    """The user a token names, by primary key, and whether that token was revoked: one
    indexed select (a request's authentication costs one round trip)."""
    result = await execute_core(session, _SESSION_USER, {"user_id": user_id, "jti": jti})
    row = result.first()
    return None if row is None else SessionUser(*row)


async def find_user(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == normalise_username(username)))


async def whatsapp_users(session: AsyncSession, customer_id: int) -> list[tuple[int, str]]:
    """(user id, number) of the customer's enabled users with a WhatsApp number who have not
    sent STOP."""
    rows = await session.execute(
        select(User.id, User.phone)
        .where(
            User.customer_id == customer_id,
            User.phone.is_not(None),
            User.whatsapp_opted_out.is_(False),
            User.disabled.is_(False),
            User.notify_by != NotifyBy.EMAIL.value,
        )
        .order_by(User.id)
    )
    return [(user_id, phone) for user_id, phone in rows if phone]


def _whatsapp_only(customer_id: int) -> tuple[ColumnElement[bool], ...]:
    """The customer's users who chose WhatsApp only and can be reached there (a number, no
    STOP, enabled) and have an e-mail address: they get no e-mail copy."""
    return (
        User.customer_id == customer_id,
        User.notify_by == NotifyBy.WHATSAPP.value,
        User.phone.is_not(None),
        User.whatsapp_opted_out.is_(False),
        User.disabled.is_(False),
        User.email.is_not(None),
    )


async def whatsapp_only_emails(session: AsyncSession, customer_id: int) -> set[str]:
    """E-mail addresses (lower case) of the customer's users told on WhatsApp only."""
    rows = await session.scalars(select(User.email).where(*_whatsapp_only(customer_id)))
    return {email.casefold() for email in rows if email}


async def whatsapp_only_email(session: AsyncSession, customer_id: int, phone: str) -> str | None:
    """The e-mail address of the customer's user told on WhatsApp only at `phone`, if any."""
    return await session.scalar(
        select(User.email).where(*_whatsapp_only(customer_id), User.phone == phone)
    )


async def find_by_phone(session: AsyncSession, phone: str) -> User | None:
    return await session.scalar(select(User).where(User.phone == phone))


async def add_user(
    session: AsyncSession,
    *,
    username: str,
    password_hash: str,
    role: Role,
    customer_id: int | None,
) -> User:
    user = User(
        username=normalise_username(username),
        password_hash=password_hash,
        role=role.value,
        customer_id=customer_id,
    )
    session.add(user)
    await session.flush()
    return user


async def list_users(session: AsyncSession, *, customer_id: int | None = None) -> list[User]:
    stmt = select(User).order_by(User.username)
    if customer_id is not None:
        stmt = stmt.where(User.customer_id == customer_id)
    return list(await session.scalars(stmt))


async def approvers(session: AsyncSession, customer_id: int) -> list[tuple[str, str | None]]:
    """(e-mail, approval limit) of the customer's enabled approvers that have an e-mail."""
    rows = await session.execute(
        select(User.email, User.approval_limit).where(
            User.customer_id == customer_id,
            User.customer_role == CustomerRole.APPROVER.value,
            User.disabled.is_(False),
            User.email.is_not(None),
        )
    )
    return [(email, limit) for email, limit in rows.all() if email]


async def record_login_failures(session: AsyncSession, keys: list[str], at: datetime) -> list[int]:
    """One failure per key (an attempt counts as failed until it succeeds); their ids."""
    rows = [LoginFailure(key=key, failed_at=at) for key in keys]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


@dataclass(frozen=True)
class FailureCount:
    count: int
    oldest: datetime | None
    latest: datetime | None


async def login_failures_since(
    session: AsyncSession, key: str, since: datetime, *, excluding: Sequence[int] = ()
) -> FailureCount:
    """How many failures `key` had since `since` (other than `excluding`), the oldest and the
    latest of them."""
    row = (
        await session.execute(
            select(
                func.count(), func.min(LoginFailure.failed_at), func.max(LoginFailure.failed_at)
            ).where(
                LoginFailure.key == key,
                LoginFailure.failed_at >= since,
                LoginFailure.id.not_in(excluding),
            )
        )
    ).one()
    return FailureCount(int(row[0]), row[1], row[2])


async def delete_login_failures(session: AsyncSession, ids: list[int]) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.id.in_(ids)))


async def clear_login_failures(session: AsyncSession, keys: list[str]) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))


async def clear_login_failures_of_account(session: AsyncSession, account_key: str) -> int:
    """Every failure of the account, also those counted with a client (`<account>|ip:...`)."""
    pattern = account_key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await session.execute(
        delete(LoginFailure).where(
            (LoginFailure.key == account_key)
            | LoginFailure.key.like(f"{pattern}|ip:%", escape="\\")
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def prune_login_failures(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at < before))


async def revoke_token(session: AsyncSession, jti: str, expires_at: datetime) -> None:
    """Idempotent, also when two logouts of one session race (one row, no conflict error)."""
    insert = dialect_insert(session)
    await session.execute(
        insert(RevokedToken)
        .values(jti=jti, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["jti"])
    )
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
