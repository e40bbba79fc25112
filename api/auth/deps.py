"""Who is calling, and which customer they may see. Tenancy is enforced here and only here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Integer, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import tokens
from api.deps import SAFE_METHODS, SessionDep, SettingsDep
from core.errors import Forbidden, NotFound, Unauthorized
from store.accounts import session_user
from store.db import execute_core
from store.models import Customer, CustomerRole, Role
from workflows.contract.cycle import Authority

SESSION_COOKIE = "restock_session"
CSRF_COOKIE = "restock_csrf"
CSRF_HEADER = "X-CSRF-Token"
MAX_ID = 2_147_483_647

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <access_token>`")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description=f"Set by login. Unsafe methods also need the `{CSRF_HEADER}` header.",
)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: Role
    customer_id: int | None
    jti: str
    via_cookie: bool
    customer_role: CustomerRole | None = None
    approval_limit: Decimal | None = None
    """The most this user approves at once; None: no limit (ops, or an approver without)."""

    @property
    def actor(self) -> str:
        return f"user:{self.username}"

    @property
    def authority(self) -> Authority:
        """What the cycle is told of this caller's right to decide (signed with the update)."""
        if self.role is Role.OPS:
            return Authority(role="ops", limit=None)
        role = self.customer_role or CustomerRole.VIEWER
        return Authority(role=role.value, limit=self.approval_limit)

    @property
    def may_edit(self) -> bool:
        return self.role is Role.OPS or self.customer_role in (
            CustomerRole.BUYER,
            CustomerRole.APPROVER,
        )

    @property
    def may_reject(self) -> bool:
        return self.role is Role.OPS or self.customer_role is CustomerRole.APPROVER

    def require_customer_role(self, *allowed: CustomerRole, doing: str) -> None:
        """Ops may do anything; a customer's user only what one of `allowed` may."""
        if self.role is Role.OPS or self.customer_role in allowed:
            return
        names = " or ".join(r.value for r in allowed)
        role = self.customer_role.value if self.customer_role else "none"
        raise Forbidden(f"{doing} needs the {names} role; yours is {role}", code="role_forbidden")

    def may_see(self, customer_id: int) -> bool:
        return self.role is Role.OPS or self.customer_id == customer_id


async def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """The authenticated user. A Bearer header wins over the cookie; a cookie-authenticated
    unsafe request must carry the session's CSRF token in `X-CSRF-Token`."""
    if bearer is not None:
        token, via_cookie = bearer.credentials, False
    elif cookie:
        token, via_cookie = cookie, True
    else:
        raise Unauthorized("not authenticated")
    claims = tokens.decode(settings, token)
    principal = await principal_for(session, claims, via_cookie=via_cookie)
    if (
        via_cookie
        and request.method not in SAFE_METHODS
        and not tokens.csrf_matches(settings, claims.jti, request.headers.get(CSRF_HEADER))
    ):
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header", code="csrf_failed")
    return principal


async def principal_for(
    session: AsyncSession, claims: tokens.Claims, *, via_cookie: bool
) -> Principal:
    """The user a valid token names, if the account still matches it (not disabled, not
    logged out since, same role and customer)."""
    user = await session_user(session, claims.user_id, claims.jti)
    if (
        user is None
        or user.disabled
        or user.token_version != claims.token_version
        or user.role != claims.role.value
        or user.customer_id != claims.customer_id
        or user.token_revoked
    ):
        raise Unauthorized("session is no longer valid", code="invalid_token")
    return Principal(
        user.id,
        user.username,
        Role(user.role),
        user.customer_id,
        claims.jti,
        via_cookie,
        CustomerRole(user.customer_role) if user.customer_role else None,
        Decimal(user.approval_limit) if user.approval_limit is not None else None,
    )


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def require_ops(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.OPS:
        raise Forbidden("operations staff only")
    return principal


OpsDep = Annotated[Principal, Depends(require_ops)]

CustomerIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The customer's id", examples=[1])
]


@dataclass(frozen=True)
class CustomerScope:
    """A customer the caller may see (its row is not loaded: `CustomerRecordScope`)."""

    customer_id: int
    principal: Principal


_customers = Customer.__table__.c
_CUSTOMER_EXISTS = select(_customers.id).where(
    _customers.id == bindparam("customer_id", type_=Integer)
)


async def customer_scope(
    customer_id: CustomerIdPath, principal: PrincipalDep, session: SessionDep
) -> CustomerScope:
    """`{customer_id}` for the caller; 404 if it does not exist or is another tenant's (the
    same answer, so ids of other tenants cannot be probed).

    A customer's own user needs no query here: their session was just read
    (`current_principal`), and a customer's users are deleted with it (the foreign key
    cascades), so their customer exists. Only ops pay a primary-key lookup."""
    if not principal.may_see(customer_id):
        raise NotFound(f"customer {customer_id} not found")
    if principal.role is Role.OPS:
        found = await execute_core(session, _CUSTOMER_EXISTS, {"customer_id": customer_id})
        if found.scalar() is None:
            raise NotFound(f"customer {customer_id} not found")
    return CustomerScope(customer_id, principal)


CustomerScopeDep = Annotated[CustomerScope, Depends(customer_scope)]


@dataclass(frozen=True)
class CustomerRecordScope(CustomerScope):
    """`CustomerScope` with the customer's row, for routes that show or change it."""

    customer: Customer


async def customer_record_scope(
    customer_id: CustomerIdPath, principal: PrincipalDep, session: SessionDep
) -> CustomerRecordScope:
    """`customer_scope`, loading the row (one lookup for anyone)."""
    if not principal.may_see(customer_id):
        raise NotFound(f"customer {customer_id} not found")
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return CustomerRecordScope(customer_id, principal, customer)


CustomerRecordDep = Annotated[CustomerRecordScope, Depends(customer_record_scope)]


async def ops_customer_scope(scope: CustomerRecordDep) -> CustomerRecordScope:
    if scope.principal.role is not Role.OPS:
        raise Forbidden("operations staff only")
    return scope


OpsCustomerScopeDep = Annotated[CustomerRecordScope, Depends(ops_customer_scope)]
