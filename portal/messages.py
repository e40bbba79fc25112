"""What Restock sent a customer's users through a messaging channel, and whether it
arrived (`/ops/customers/{id}/messages`): where ops look when a buyer says he was told
nothing, and where "messages not delivered" on the exceptions page leads."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.auth.deps import OpsCustomerScopeDep
from api.deps import SessionDep, SettingsDep
from portal.render import page_context, render
from services.deliveries import recent_messages

router = APIRouter(include_in_schema=False)

SHOWN = 100


@router.get("/ops/customers/{customer_id}/messages")
async def messages_page(
    request: Request, scope: OpsCustomerScopeDep, session: SessionDep, settings: SettingsDep
) -> Response:
    return render(
        request,
        "messages.html",
        page_context(
            scope.principal,
            settings,
            customer=scope.customer,
            messages=await recent_messages(session, scope.customer_id, SHOWN),
            shown=SHOWN,
            nav="ops",
        ),
    )
