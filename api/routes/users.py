"""Operations: a customer's users, and what each may do with its recommendations."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, Field

from api.auth.deps import OpsCustomerScopeDep
from api.deps import SessionDep
from api.schemas.common import STORED_CONFLICT, TENANT_ERRORS, VALIDATION_ERROR
from core.errors import NotFound
from services.accounts import (
    ApprovalGrant,
    NotifyByBody,
    PhoneBody,
    grant_of,
    set_approval_grant,
    set_notify_by,
    set_phone,
)
from store import accounts as users_repo
from store.models import NotifyBy, User

router = APIRouter(prefix="/api", tags=["ops"])

Username = Annotated[str, Path(min_length=1, max_length=120, description="Login name")]


class CustomerUserOut(BaseModel):
    username: str
    customer_role: str = Field(description="viewer | buyer | approver")
    approval_limit: Decimal | None = Field(description="None: no limit")
    email: str | None
    phone: str | None = Field(description="WhatsApp number (E.164) ops verified; None: none")
    whatsapp_opted_out: bool = Field(description="The user sent STOP on WhatsApp")
    notify_by: NotifyBy = Field(description="How the user is told: both, email or whatsapp")
    disabled: bool

    @classmethod
    def of(cls, user: User) -> CustomerUserOut:
        grant = grant_of(user)
        return cls(
            username=user.username,
            customer_role=grant.customer_role.value,
            approval_limit=grant.approval_limit,
            email=grant.email,
            phone=user.phone,
            whatsapp_opted_out=user.whatsapp_opted_out,
            notify_by=NotifyBy(user.notify_by),
            disabled=user.disabled,
        )


@router.get(
    "/customers/{customer_id}/users",
    response_model=list[CustomerUserOut],
    summary="The customer's users with their roles and approval limits (ops)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def customer_users(scope: OpsCustomerScopeDep, session: SessionDep) -> list[CustomerUserOut]:
    users = await users_repo.list_users(session, customer_id=scope.customer_id)
    return [CustomerUserOut.of(u) for u in users]


@router.put(
    "/customers/{customer_id}/users/{username}/approval",
    response_model=CustomerUserOut,
    summary="Set a customer user's role (viewer, buyer, approver), approval limit and e-mail "
    "(ops; audited). It applies from the user's next request",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def set_user_approval(
    body: ApprovalGrant, username: Username, scope: OpsCustomerScopeDep, session: SessionDep
) -> CustomerUserOut:
    user = await _customer_user(session, username, scope.customer_id)
    await set_approval_grant(session, user, body, actor=scope.principal.actor)
    return CustomerUserOut.of(user)


async def _customer_user(session: SessionDep, username: str, customer_id: int) -> User:
    user = await users_repo.find_user(session, username)
    if user is None or user.customer_id != customer_id:
        raise NotFound(f"user {username!r} not found", field="username")
    return user


@router.put(
    "/customers/{customer_id}/users/{username}/phone",
    response_model=CustomerUserOut,
    summary="Set the WhatsApp number a customer user writes from, once verified with the "
    "customer (ops; audited; one user per number). Messages from it act as this user",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **STORED_CONFLICT},
)
async def set_user_phone(
    body: PhoneBody, username: Username, scope: OpsCustomerScopeDep, session: SessionDep
) -> CustomerUserOut:
    user = await _customer_user(session, username, scope.customer_id)
    await set_phone(session, user, body.phone, actor=scope.principal.actor)
    return CustomerUserOut.of(user)


@router.delete(
    "/customers/{customer_id}/users/{username}/phone",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a customer user's WhatsApp number away (ops; audited)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def remove_user_phone(
    username: Username, scope: OpsCustomerScopeDep, session: SessionDep
) -> Response:
    user = await _customer_user(session, username, scope.customer_id)
    await set_phone(session, user, None, actor=scope.principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/customers/{customer_id}/users/{username}/notify-by",
    response_model=CustomerUserOut,
    summary="Set how a customer user is told of the buyer's messages: both, email or whatsapp "
    "(ops; audited). Users set their own with PUT /api/me/notify-by",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def set_user_notify_by(
    body: NotifyByBody, username: Username, scope: OpsCustomerScopeDep, session: SessionDep
) -> CustomerUserOut:
    user = await _customer_user(session, username, scope.customer_id)
    await set_notify_by(session, user, body.notify_by, actor=scope.principal.actor)
    return CustomerUserOut.of(user)
