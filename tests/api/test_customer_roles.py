"""Ops set what each of a customer's users may do (role, approval limit, e-mail); it applies
from the user's next request, is audited, and bad input names the field and stores nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import AuditEntry
from tests.api.conftest import Tenants, bearer


async def test_ops_set_a_users_role_and_limit_and_it_applies_at_once(
    api_client: httpx.AsyncClient,
    tenants: Tenants,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a = tenants.a.customer_id
    ops, buyer = bearer(tenants.ops), bearer(tenants.buyer_a)
    listed = await api_client.get(f"/api/customers/{a}/users", headers=ops)
    assert listed.status_code == 200, listed.text
    assert listed.json() == [
        {
            "username": "buyer-a",
            "customer_role": "approver",
            "approval_limit": None,
            "email": None,
            "phone": None,
            "whatsapp_opted_out": False,
            "notify_by": "both",
            "disabled": False,
        }
    ]
    me = (await api_client.get("/api/me", headers=buyer)).json()
    assert me["customer_role"] == "approver" and me["approval_limit"] is None

    url = f"/api/customers/{a}/users/buyer-a/approval"
    grant = {"customer_role": "buyer", "approval_limit": "2500.50", "email": "a@example.com"}
    changed = await api_client.put(url, headers=ops, json=grant)
    assert changed.status_code == 200, changed.text
    assert changed.json()["customer_role"] == "buyer"
    assert changed.json()["approval_limit"] == "2500.50"
    me = (await api_client.get("/api/me", headers=buyer)).json()
    assert me["customer_role"] == "buyer" and me["approval_limit"] == "2500.50"

    # Bad input names the field and keeps what was stored.
    for bad, field in [
        ({"customer_role": "boss"}, "customer_role"),
        ({"customer_role": "buyer", "approval_limit": "-1"}, "approval_limit"),
        ({"customer_role": "buyer", "approval_limit": "1.234"}, "approval_limit"),
        ({"customer_role": "buyer", "email": "not an address"}, "email"),
        ({"customer_role": "buyer", "extra": 1}, "extra"),
    ]:
        refused = await api_client.put(url, headers=ops, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert field in refused.json()["field"], (bad, refused.json())
    still = (await api_client.get(f"/api/customers/{a}/users", headers=ops)).json()[0]
    assert still["customer_role"] == "buyer" and still["approval_limit"] == "2500.50"

    # A viewer reads and edits nothing.
    viewer = await api_client.put(url, headers=ops, json={"customer_role": "viewer"})
    assert viewer.status_code == 200
    version = tenants.a.version
    draft = await api_client.patch(
        f"/api/customers/{a}/recommendations/{version}/draft",
        headers=buyer,
        json={"edits": {}},
    )
    assert draft.status_code == 403 and draft.json()["error"] == "role_forbidden"
    assert "needs the buyer or approver role; yours is viewer" in draft.json()["detail"]
    read = await api_client.get(f"/api/customers/{a}/recommendations/{version}", headers=buyer)
    assert read.status_code == 200

    async with sessions() as session:
        audited = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "user.role_changed")
            )
        )
    assert [e.details["after"]["customer_role"] for e in audited] == ["buyer", "viewer"]
    assert audited[0].details["before"]["customer_role"] == "approver"
    assert all(e.actor == "user:ops" for e in audited)


async def test_users_are_ops_business_and_another_tenants_user_is_not_found(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a.customer_id, tenants.b.customer_id
    ops = bearer(tenants.ops)
    grant = {"customer_role": "viewer"}
    mine = await api_client.put(
        f"/api/customers/{a}/users/buyer-a/approval", headers=bearer(tenants.buyer_a), json=grant
    )
    assert mine.status_code == 403
    other = await api_client.get(f"/api/customers/{b}/users", headers=bearer(tenants.buyer_a))
    assert other.status_code == 404
    wrong_customer = await api_client.put(
        f"/api/customers/{a}/users/buyer-b/approval", headers=ops, json=grant
    )
    assert wrong_customer.status_code == 404 and wrong_customer.json()["field"] == "username"
    ops_user = await api_client.put(
        f"/api/customers/{a}/users/ops/approval", headers=ops, json=grant
    )
    assert ops_user.status_code == 404
