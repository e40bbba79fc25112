"""Snoozing a product for N reviews: the next plan leaves it out (status `snoozed`, a note
saying until when), waking it brings it back; validated, audited, by buyers and approvers of
the customer only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import tokens
from core.settings import Settings
from services.accounts import ApprovalGrant
from services.recommend import recommend
from store.db import unit_of_work
from store.models import AuditEntry, CustomerRole, Role
from store.snapshots import get_snapshot
from tests.api.conftest import Tenants, add_user, bearer


async def test_a_snoozed_product_is_left_out_of_the_next_plan_until_woken(
    api_client: httpx.AsyncClient,
    tenants: Tenants,
    sessions: async_sessionmaker[AsyncSession],
    app_settings: Settings,
) -> None:
    a = tenants.a
    buyer = bearer(tenants.buyer_a)
    current = (
        await api_client.get(f"/api/customers/{a.customer_id}/recommendations", headers=buyer)
    ).json()["current"]
    code = current["lines"]["items"][0]["product_code"]
    url = f"/api/customers/{a.customer_id}/products/{code}/snooze"

    for bad, field in [({"reviews": 0}, "reviews"), ({"reviews": 27}, "reviews"), ({}, "reviews")]:
        refused = await api_client.put(url, headers=buyer, json=bad)
        assert refused.status_code == 422 and refused.json()["field"] == field, refused.text
    unknown = await api_client.put(
        f"/api/customers/{a.customer_id}/products/NOPE-1/snooze", headers=buyer, json={"reviews": 1}
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "product_code"
    other = await api_client.put(
        f"/api/customers/{tenants.b.customer_id}/products/{code}/snooze",
        headers=buyer,
        json={"reviews": 1},
    )
    assert other.status_code == 404
    viewer = await add_user(
        sessions,
        "viewer-a",
        Role.CUSTOMER,
        a.customer_id,
        ApprovalGrant(customer_role=CustomerRole.VIEWER),
    )
    as_viewer = bearer(tokens.issue(app_settings, viewer).token)
    looking = await api_client.put(url, headers=as_viewer, json={"reviews": 1})
    assert looking.status_code == 403 and looking.json()["error"] == "role_forbidden"

    snoozed = await api_client.put(url, headers=buyer, json={"reviews": 2})
    assert snoozed.status_code == 200, snoozed.text
    async with sessions() as session:
        snapshot = await get_snapshot(session, a.customer_id)
    assert snapshot is not None
    until = snapshot.as_of + timedelta(weeks=2)  # the customer reviews weekly, from the sync
    assert snoozed.json() == {
        "product_code": code,
        "reviews": 2,
        "until": until.isoformat(),
        "snoozed_by": "user:buyer-a",
    }
    detail = await api_client.get(f"/api/customers/{a.customer_id}/products/{code}", headers=buyer)
    assert detail.json()["snoozed_until"] == until.isoformat()

    replanned = await recommend(sessions, a.customer_id)
    assert replanned.created and replanned.version == current["version"] + 1
    assert code not in {line.product_code for line in replanned.lines}
    shown = await api_client.get(f"/api/customers/{a.customer_id}/products/{code}", headers=buyer)
    assert shown.json()["status"] == "snoozed"
    assert (await recommend(sessions, a.customer_id)).created is False  # same inputs, same plan

    woken = await api_client.delete(url, headers=buyer)
    assert woken.status_code == 204
    again = await api_client.delete(url, headers=buyer)
    assert again.status_code == 404 and again.json()["field"] == "product_code"
    back = await recommend(sessions, a.customer_id)
    assert back.created  # planned again (it may need nothing now: the tenant's order covers it)
    shown = await api_client.get(f"/api/customers/{a.customer_id}/products/{code}", headers=buyer)
    assert shown.json()["status"] in ("at_risk", "reorder", "healthy")

    async with unit_of_work(sessions) as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.customer_id == a.customer_id,
                    AuditEntry.action.in_(["product.snoozed", "product.woken"]),
                )
            )
        )
    assert actions == ["product.snoozed", "product.woken"]


async def test_snoozes_of_one_product_sent_at_once_all_land_and_one_stays(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Two tabs snoozing the same product at once: each answer is 200, one snooze is kept."""
    a = tenants.a
    buyer = bearer(tenants.buyer_a)
    current = (
        await api_client.get(f"/api/customers/{a.customer_id}/recommendations", headers=buyer)
    ).json()["current"]
    code = current["lines"]["items"][0]["product_code"]
    url = f"/api/customers/{a.customer_id}/products/{code}/snooze"

    answers = await asyncio.gather(
        *(api_client.put(url, headers=buyer, json={"reviews": n}) for n in (1, 2, 3, 4, 5, 6))
    )
    assert [answer.status_code for answer in answers] == [200] * 6, [a.text for a in answers]
    kept = (
        await api_client.get(f"/api/customers/{a.customer_id}/products/{code}", headers=buyer)
    ).json()["snoozed_until"]
    assert kept in {answer.json()["until"] for answer in answers}
    async with unit_of_work(sessions) as session:
        audited = list(
            await session.scalars(
                select(AuditEntry.id).where(
                    AuditEntry.customer_id == a.customer_id,
                    AuditEntry.action == "product.snoozed",
                )
            )
        )
    assert len(audited) == 6
