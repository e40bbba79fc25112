"""Starting and ending a browser session: shared by the JSON login route and the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import tokens
from api.auth.deps import CSRF_COOKIE, SESSION_COOKIE, Principal
from api.resources import Resources
from core.settings import Environment, Settings
from services import accounts
from store import audit
from store.accounts import revoke_token
from store.base import utcnow
from store.models import User


@dataclass(frozen=True)
class StartedSession:
    user: User
    issued: tokens.IssuedToken
    csrf: str


async def log_in(
    resources: Resources, response: Response, *, username: str, password: str, client: str
) -> StartedSession:
    """Check the password (throttled) and set the session and CSRF cookies on `response`."""
    user = await accounts.authenticate(
        resources.sessions, username=username, password=password, client=client
    )
    issued = tokens.issue(resources.settings, user)
    csrf = tokens.csrf_token(resources.settings, issued.claims.jti)
    set_session_cookies(response, resources.settings, issued.token, csrf)
    return StartedSession(user, issued, csrf)


async def log_out(
    session: AsyncSession,
    settings: Settings,
    response: Response,
    principal: Principal,
    *,
    everywhere: bool = False,
) -> None:
    """End this session (its token is revoked until it would have expired), or with
    `everywhere` every session of the user (token version bump); audit it, clear the
    cookies."""
    if everywhere:
        user = await session.get(User, principal.user_id)
        if user is not None:
            user.token_version += 1
    else:
        # A token never outlives its lifetime (checked on decode): revoke it for that long.
        until = utcnow() + timedelta(minutes=settings.jwt_expiry_minutes, seconds=60)
        await revoke_token(session, principal.jti, until)
    await audit.append(
        session,
        actor=principal.actor,
        action="auth.logout",
        user_id=principal.user_id,
        customer_id=principal.customer_id,
        details={"everywhere": everywhere},
    )
    secure = settings.env is Environment.PRODUCTION
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="lax")


def set_session_cookies(response: Response, settings: Settings, token: str, csrf: str) -> None:
    max_age = settings.jwt_expiry_minutes * 60
    secure = settings.env is Environment.PRODUCTION
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, path="/", secure=secure, httponly=False, samesite="lax"
    )
