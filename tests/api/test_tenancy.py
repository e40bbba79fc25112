"""Tenant isolation: every object route with another tenant's ids answers 404, never data."""

from __future__ import annotations

from dataclasses import replace

import httpx
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import unit_of_work
from store.models import Customer
from tests.api.conftest import Tenant, Tenants, bearer


def object_routes(t: Tenant) -> list[str]:
    base = f"/api/customers/{t.customer_id}"
    return [
        base,
        f"{base}/dashboard",
        f"{base}/products",
        f"{base}/recommendations",
        f"{base}/recommendations/{t.version}",
        f"{base}/orders",
        f"{base}/orders/{t.order_id}",
        f"{base}/cycles",
        f"{base}/cycles/{t.cycle_id}",
    ]


def foreign_objects_under_own_customer(own: Tenant, other: Tenant) -> list[str]:
    """Another tenant's object ids asked for under one's own customer id."""
    base = f"/api/customers/{own.customer_id}"
    return [f"{base}/orders/{other.order_id}", f"{base}/cycles/{other.cycle_id}"]


async def test_each_tenant_sees_its_own_objects(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    for token, tenant in ((tenants.buyer_a, tenants.a), (tenants.buyer_b, tenants.b)):
        for url in object_routes(tenant):
            response = await api_client.get(url, headers=bearer(token))
            assert response.status_code == 200, (url, response.text)


async def test_another_tenants_ids_answer_404_without_data(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    pairs = ((tenants.buyer_a, tenants.b), (tenants.buyer_b, tenants.a))
    for token, other in pairs:
        for url in object_routes(other):
            response = await api_client.get(url, headers=bearer(token))
            assert response.status_code == 404, url
            assert response.json()["error"] == "not_found"
            assert other.erp_code not in response.text
    # Ops-only routes under another tenant's id: 404 too, not 403 (no existence leak).
    for suffix in ("settings", "data-quality"):
        url = f"/api/customers/{tenants.b.customer_id}/{suffix}"
        response = await api_client.get(url, headers=bearer(tenants.buyer_a))
        assert response.status_code == 404, url
    response = await api_client.put(
        f"/api/customers/{tenants.b.customer_id}/settings", headers=bearer(tenants.buyer_a), json={}
    )
    assert response.status_code in (404, 422)


async def test_foreign_object_ids_under_own_customer_answer_404(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    assert tenants.a.order_id != tenants.b.order_id
    for token, own, other in (
        (tenants.buyer_a, tenants.a, tenants.b),
        (tenants.buyer_b, tenants.b, tenants.a),
    ):
        for url in foreign_objects_under_own_customer(own, other):
            response = await api_client.get(url, headers=bearer(token))
            assert response.status_code == 404, url
    # A version number both tenants have resolves to each tenant's own version.
    assert tenants.a.version == tenants.b.version == 1
    mine = await api_client.get(
        f"/api/customers/{tenants.a.customer_id}/recommendations/1", headers=bearer(tenants.buyer_a)
    )
    assert mine.json()["customer_id"] == tenants.a.customer_id


async def test_ops_sees_every_tenant(api_client: httpx.AsyncClient, tenants: Tenants) -> None:
    for tenant in (tenants.a, tenants.b):
        for url in object_routes(tenant):
            response = await api_client.get(url, headers=bearer(tenants.ops))
            assert response.status_code == 200, url
    listing = await api_client.get("/api/customers", headers=bearer(tenants.ops))
    assert {c["id"] for c in listing.json()["items"]} == {
        tenants.a.customer_id,
        tenants.b.customer_id,
    }


async def test_list_routes_show_no_foreign_rows(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    listing = await api_client.get("/api/customers", headers=bearer(tenants.buyer_a))
    assert [c["id"] for c in listing.json()["items"]] == [tenants.a.customer_id]
    assert listing.json()["total"] == 1
    base = f"/api/customers/{tenants.a.customer_id}"
    products = (
        await api_client.get(f"{base}/products?page_size=200", headers=bearer(tenants.buyer_a))
    ).json()
    assert products["total"] == 40  # the small customer's 40, none of the medium one's 400
    assert len(products["items"]) == 40
    orders = (
        await api_client.get(f"{base}/orders?page_size=200", headers=bearer(tenants.buyer_a))
    ).json()
    assert tenants.b.order_id not in {o["id"] for o in orders["items"]}
    assert tenants.a.order_id in {o["id"] for o in orders["items"]}
    cycles = (await api_client.get(f"{base}/cycles", headers=bearer(tenants.buyer_a))).json()
    assert [c["id"] for c in cycles["items"]] == [tenants.a.cycle_id]
    recs = (await api_client.get(f"{base}/recommendations", headers=bearer(tenants.buyer_a))).json()
    assert recs["current"]["customer_id"] == tenants.a.customer_id
    assert recs["versions_total"] == 1


async def test_a_customer_that_does_not_exist_answers_404_to_ops(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    missing = replace(tenants.a, customer_id=max(tenants.a.customer_id, tenants.b.customer_id) + 1)
    for url in [
        *object_routes(missing),
        f"/api/customers/{missing.customer_id}/settings",
        f"/api/customers/{missing.customer_id}/recommendations/1/worksheet.csv",
    ]:
        response = await api_client.get(url, headers=bearer(tenants.ops))
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found", url


async def test_a_deleted_customers_users_are_signed_out(
    api_client: httpx.AsyncClient,
    tenants: Tenants,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A customer's user reaches its routes without a lookup of the customer (api.auth.deps
    .customer_scope): that holds because deleting a customer deletes its users."""
    async with unit_of_work(sessions) as session:
        await session.execute(delete(Customer).where(Customer.id == tenants.a.customer_id))
    for url in object_routes(tenants.a):
        response = await api_client.get(url, headers=bearer(tenants.buyer_a))
        assert response.status_code == 401, url
    still = await api_client.get(
        f"/api/customers/{tenants.b.customer_id}/products", headers=bearer(tenants.buyer_b)
    )
    assert still.status_code == 200
