"""JWT access tokens: HS256 only, short-lived, audience and issuer checked; CSRF tokens bound
to the session's token id."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from core.errors import Unauthorized
from core.settings import Settings
from store.base import utcnow
from store.models import Role, User

ALGORITHM = "HS256"
ISSUER = "restock"
AUDIENCE = "restock-api"
LIFETIME_LEEWAY_SECONDS = 60
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "aud", "iss", "jti", "role", "ver"]


@dataclass(frozen=True)
class Claims:
    user_id: int
    role: Role
    customer_id: int | None
    token_version: int
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: Claims


def issue(settings: Settings, user: User, *, now: datetime | None = None) -> IssuedToken:
    now = now or utcnow()
    expires_at = now + timedelta(minutes=settings.jwt_expiry_minutes)
    jti = secrets.token_urlsafe(16)
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user.id),
        "iat": now,
        "nbf": now,
        "exp": expires_at,
        "jti": jti,
        "role": user.role,
        "cid": user.customer_id,
        "ver": user.token_version,
    }
    token = jwt.encode(payload, settings.jwt_secret, algorithm=ALGORITHM)
    claims = Claims(user.id, Role(user.role), user.customer_id, user.token_version, jti, expires_at)
    return IssuedToken(token, claims)


def decode(settings: Settings, token: str, *, now: datetime | None = None) -> Claims:
    """Verify signature (HS256 only: `none` and every other algorithm are refused), expiry,
    audience and issuer; raise Unauthorized for anything wrong.

    A token verified once is remembered (`_verified`, by secret and token text), so a
    session's later requests only check its expiry again: verifying costs about a tenth of
    a cheap authenticated request's CPU (bench/api.py). Whether its session is still valid
    is the caller's check on every request (`api.auth.deps.principal_for`)."""
    claims = _verified(settings.jwt_secret, settings.jwt_expiry_minutes, token)
    if claims.expires_at <= (now or utcnow()):
        raise Unauthorized("token expired", code="token_expired")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(secret: str, expiry_minutes: int, token: str) -> Claims:
    """The claims of a token that passed every check; an exception is not remembered."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
        lifetime = int(payload["exp"]) - int(payload["iat"])
        if lifetime > expiry_minutes * 60 + LIFETIME_LEEWAY_SECONDS:
            raise Unauthorized("token lives longer than allowed", code="invalid_token")
        customer_id = payload.get("cid")
        return Claims(
            user_id=int(payload["sub"]),
            role=Role(payload["role"]),
            customer_id=None if customer_id is None else int(customer_id),
            token_version=int(payload["ver"]),
            jti=str(payload["jti"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=UTC),
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired", code="token_expired") from None
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise Unauthorized("invalid token", code="invalid_token") from None


def csrf_token(settings: Settings, jti: str) -> str:
    """The CSRF token for one session: an HMAC of its token id, so it cannot be forged or
    reused with another session (a signed double-submit token)."""
    return hmac.new(
        settings.jwt_secret.encode(), f"csrf:{jti}".encode(), hashlib.sha256
    ).hexdigest()


def csrf_matches(settings: Settings, jti: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token(settings, jti), presented)
