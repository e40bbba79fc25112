"""Operations: a customer's users, and what each may do with its recommendations."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.auth.deps import OpsCustomerScopeDep
from api.deps import SessionDep
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR
from core.errors import NotFound
from services.accounts import ApprovalGrant, grant_of, set_approval_grant
from store import accounts as users_repo
from store.models import User

router = APIRouter(prefix="/api", tags=["ops"])

Username = Annotated[str, Path(min_length=1, max_length=120, description="Login name")]


class CustomerUserOut(BaseModel):
    username: str
    customer_role: str = Field(description="viewer | buyer | approver")
    approval_limit: Decimal | None = Field(description="None: no limit")
    email: str | None
    disabled: bool

    @classmethod
    def of(cls, user: User) -> CustomerUserOut:
        grant = grant_of(user)
        return cls(
            username=user.username,
            customer_role=grant.customer_role.value,
            approval_limit=grant.approval_limit,
            email=grant.email,
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
    user = await users_repo.find_user(session, username)
    if user is None or user.customer_id != scope.customer_id:
        raise NotFound(f"user {username!r} not found", field="username")
    await set_approval_grant(session, user, body, actor=scope.principal.actor)
    return CustomerUserOut.of(user)
