"""Login, logout and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.auth import tokens
from api.auth.deps import CSRF_COOKIE, SESSION_COOKIE, PrincipalDep
from api.deps import ResourcesDep, SessionDep, SettingsDep
from api.schemas.auth import LoggedOut, LoginRequest, Me, TokenResponse
from api.schemas.common import AUTH_ERRORS, VALIDATION_ERROR, ErrorBody
from core.settings import Environment, Settings
from services import accounts
from store import audit
from store.models import User

router = APIRouter(prefix="/api", tags=["auth"])


@router.post(
    "/auth/login",
    response_model=TokenResponse,
    summary="Log in: returns an access token and sets the session and CSRF cookies",
    responses={
        401: {"model": ErrorBody, "description": "Wrong username or password"},
        429: {
            "model": ErrorBody,
            "description": "Too many failed logins for this account or client; see Retry-After",
        },
        **VALIDATION_ERROR,
    },
)
async def login(
    body: LoginRequest, request: Request, response: Response, resources: ResourcesDep
) -> TokenResponse:
    client = request.client.host if request.client else "unknown"
    user = await accounts.authenticate(
        resources.sessions, username=body.username, password=body.password, client=client
    )
    issued = tokens.issue(resources.settings, user)
    csrf = tokens.csrf_token(resources.settings, issued.claims.jti)
    _set_session_cookies(response, resources.settings, issued.token, csrf)
    return TokenResponse(
        access_token=issued.token, expires_at=issued.claims.expires_at, csrf_token=csrf
    )


@router.post(
    "/auth/logout",
    response_model=LoggedOut,
    summary="Log out: revokes every token of this user and clears the cookies",
    responses=AUTH_ERRORS,
)
async def logout(
    principal: PrincipalDep, session: SessionDep, settings: SettingsDep, response: Response
) -> LoggedOut:
    user = await session.get(User, principal.user_id)
    if user is not None:
        user.token_version += 1
    await audit.append(
        session,
        actor=principal.actor,
        action="auth.logout",
        user_id=principal.user_id,
        customer_id=principal.customer_id,
    )
    secure = settings.env is Environment.PRODUCTION
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="lax")
    return LoggedOut()


@router.get("/me", response_model=Me, summary="The logged-in user", responses=AUTH_ERRORS)
async def me(principal: PrincipalDep) -> Me:
    return Me(
        id=principal.user_id,
        username=principal.username,
        role=principal.role,
        customer_id=principal.customer_id,
    )


def _set_session_cookies(response: Response, settings: Settings, token: str, csrf: str) -> None:
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
