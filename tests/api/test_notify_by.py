"""How each customer user is told: set by ops for a user of theirs, or by the user for
themself; audited; a wrong value names the field; another tenant's user is not there."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import AuditEntry
from tests.api.conftest import Tenants, bearer


async def test_ops_and_the_user_set_how_the_user_is_told(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    a, b = tenants.a, tenants.b
    ops, buyer = bearer(tenants.ops), bearer(tenants.buyer_a)
    mine_now = await api_client.get("/api/me/notify-by", headers=buyer)
    assert mine_now.json() == {"notify_by": "both"}  # the default

    url = f"/api/customers/{a.customer_id}/users/buyer-a/notify-by"
    set_by_ops = await api_client.put(url, headers=ops, json={"notify_by": "whatsapp"})
    assert set_by_ops.status_code == 200, set_by_ops.text
    assert set_by_ops.json()["notify_by"] == "whatsapp"
    listed = await api_client.get(f"/api/customers/{a.customer_id}/users", headers=ops)
    assert {u["username"]: u["notify_by"] for u in listed.json()}["buyer-a"] == "whatsapp"

    mine = await api_client.put("/api/me/notify-by", headers=buyer, json={"notify_by": "email"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["notify_by"] == "email"
    wrong = await api_client.put("/api/me/notify-by", headers=buyer, json={"notify_by": "fax"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "notify_by", wrong.text
    assert (await api_client.get("/api/me/notify-by", headers=buyer)).json()["notify_by"] == "email"

    # Not the buyer's to set for others, and another tenant's user is not there.
    forbidden = await api_client.put(url, headers=buyer, json={"notify_by": "both"})
    assert forbidden.status_code in (403, 404), forbidden.text
    elsewhere = f"/api/customers/{b.customer_id}/users/buyer-a/notify-by"
    missing = await api_client.put(elsewhere, headers=ops, json={"notify_by": "both"})
    assert missing.status_code == 404 and missing.json()["field"] == "username"
    ops_self = await api_client.put("/api/me/notify-by", headers=ops, json={"notify_by": "both"})
    assert ops_self.status_code == 422 and ops_self.json()["field"] == "notify_by"

    async with sessions() as session:
        changes = [
            (e.actor, e.details["after"])
            for e in await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "user.notify_by_set")
                .order_by(AuditEntry.id)
            )
        ]
    assert changes == [("user:ops", "whatsapp"), ("user:buyer-a", "email")]
