"""Login, logout and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.auth.deps import PrincipalDep
from api.auth.origin import refuse_cross_site_login
from api.auth.session import log_in, log_out
from api.deps import ResourcesDep, SessionDep, SettingsDep
from api.schemas.auth import LoggedOut, LoginRequest, Me, TokenResponse
from api.schemas.common import AUTH_ERRORS, VALIDATION_ERROR, ErrorBody
from core.errors import NotFound
from services.accounts import NotifyByBody, set_notify_by
from store.accounts import find_user
from store.models import NotifyBy, User

router = APIRouter(prefix="/api", tags=["auth"])


@router.post(
    "/auth/login",
    response_model=TokenResponse,
    summary="Log in: returns an access token and sets the session and CSRF cookies",
    responses={
        401: {"model": ErrorBody, "description": "Wrong username or password"},
        403: {"model": ErrorBody, "description": "Posted from a site that is not allowed"},
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
    refuse_cross_site_login(request, resources.settings, api=True)
    started = await log_in(
        resources,
        response,
        username=body.username,
        password=body.password,
        client=request.client.host if request.client else "unknown",
    )
    return TokenResponse(
        access_token=started.issued.token,
        expires_at=started.issued.claims.expires_at,
        csrf_token=started.csrf,
    )


@router.post(
    "/auth/logout",
    response_model=LoggedOut,
    summary="Log out: ends this session (with everywhere=true, every session of the user) "
    "and clears the cookies",
    responses={**AUTH_ERRORS, **VALIDATION_ERROR},
)
async def logout(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    everywhere: Annotated[
        bool,
        Query(description="End every session of this user, not only this one"),
    ] = False,
) -> LoggedOut:
    await log_out(session, settings, response, principal, everywhere=everywhere)
    return LoggedOut()


@router.get("/me", response_model=Me, summary="The logged-in user", responses=AUTH_ERRORS)
async def me(principal: PrincipalDep) -> Me:
    return Me(
        id=principal.user_id,
        username=principal.username,
        role=principal.role,
        customer_id=principal.customer_id,
        customer_role=principal.customer_role,
        approval_limit=principal.approval_limit,
    )


@router.get(
    "/me/notify-by",
    response_model=NotifyByBody,
    summary="How you are told of the buyer's messages: both, email or whatsapp",
    responses={**AUTH_ERRORS, **VALIDATION_ERROR},
)
async def get_my_notify_by(principal: PrincipalDep, session: SessionDep) -> NotifyByBody:
    return NotifyByBody(notify_by=NotifyBy((await _me(principal, session)).notify_by))


@router.put(
    "/me/notify-by",
    response_model=NotifyByBody,
    summary="Choose how you are told of the buyer's messages: both, email or whatsapp "
    "(customer users; audited)",
    responses={**AUTH_ERRORS, **VALIDATION_ERROR},
)
async def set_my_notify_by(
    body: NotifyByBody, principal: PrincipalDep, session: SessionDep
) -> NotifyByBody:
    user = await _me(principal, session)
    await set_notify_by(session, user, body.notify_by, actor=principal.actor)
    return NotifyByBody(notify_by=NotifyBy(user.notify_by))


async def _me(principal: PrincipalDep, session: SessionDep) -> User:
    user = await find_user(session, principal.username)
    if user is None:
        raise NotFound("user not found", field="username")
    return user
