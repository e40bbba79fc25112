"""The signed-in user's own account (`/account`): who they are, and how Restock tells them of
their reviews (e-mail, WhatsApp or both), the one setting customer users change themselves."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.auth.deps import PrincipalDep
from api.deps import SessionDep, SettingsDep
from core.errors import NotFound
from portal.render import page_context, render
from services.accounts import whatsapp_unreachable
from store.accounts import find_user
from store.models import NotifyBy, Role

router = APIRouter(include_in_schema=False)

CHOICES = (
    (NotifyBy.BOTH, "E-mail and WhatsApp"),
    (NotifyBy.EMAIL, "E-mail only"),
    (NotifyBy.WHATSAPP, "WhatsApp only (e-mail while WhatsApp cannot reach you)"),
)


@router.get("/account")
async def account_page(
    request: Request, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> Response:
    user = await find_user(session, principal.username)
    if user is None:
        raise NotFound("user not found", field="username")
    customer_user = principal.role is Role.CUSTOMER
    return render(
        request,
        "account.html",
        page_context(
            principal,
            settings,
            customer_id=principal.customer_id,
            user=user,
            customer_user=customer_user,
            choices=CHOICES,
            unreachable=whatsapp_unreachable(user, settings) if customer_user else None,
            nav="account",
        ),
    )
