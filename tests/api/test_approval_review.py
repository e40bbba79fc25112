"""The approval's review step over HTTP: what would reach the ERP, refused in the cycle's
words when the cycle would refuse it, and another tenant's recommendation never seen."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.recommend import to_version
from store import recommendations as recommendations_repo
from tests.api.conftest import Tenants, bearer


async def _suggested(
    sessions: async_sessionmaker[AsyncSession], customer_id: int, version: int
) -> tuple[list[int], dict[str, int], int]:
    async with sessions() as session:
        record = await recommendations_repo.get_version(session, customer_id, version)
        assert record is not None
        rec = to_version(record)
    assert rec.settings is not None, "the version keeps the policy it was planned with"
    totals: dict[str, int] = {}
    for c in rec.containers:
        for line in c.lines:
            totals[line.product_code] = totals.get(line.product_code, 0) + line.quantity
    return [c.cartons for c in rec.containers], totals, rec.settings.container_capacity_cartons


async def test_the_review_states_the_erp_orders_and_refuses_an_extra_zero(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    a = tenants.a
    url = f"/api/customers/{a.customer_id}/recommendations/{a.version}/review"
    cartons, totals, capacity = await _suggested(sessions, a.customer_id, a.version)

    plain = await api_client.post(url, json={}, headers=bearer(tenants.buyer_a))
    assert plain.status_code == 200, plain.text
    review = plain.json()
    assert review["erp_orders"] == len(cartons)
    assert [c["cartons"] for c in review["containers"]] == cartons
    assert review["cartons"] == review["suggested_cartons"] == sum(cartons)
    assert review["changes"] == [] and review["left_out"] == []

    code, quantity = max(totals.items(), key=lambda item: item[1])
    typo = quantity * 10
    while sum(cartons) - quantity + typo <= capacity * len(cartons):
        typo *= 10
    refused = await api_client.post(
        url, json={"edits": {code: typo}}, headers=bearer(tenants.buyer_a)
    )
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["field"] == "edits" and body["error"] == "container_count_changed", body
    assert f"but {len(cartons)} " in body["detail"] and "ERP orders" in body["detail"], body

    off_pack = await api_client.post(
        url, json={"edits": {code: quantity + 1}}, headers=bearer(tenants.buyer_a)
    )
    if off_pack.status_code == 409:  # packs of one carton make any count valid
        assert off_pack.json()["field"] == f"edits.{code}", off_pack.text
        assert "pack size" in off_pack.json()["detail"]
    else:
        assert off_pack.status_code == 200, off_pack.text

    unknown = await api_client.post(
        url, json={"containers": [999]}, headers=bearer(tenants.buyer_a)
    )
    assert unknown.status_code == 409 and unknown.json()["field"] == "containers"


async def test_another_tenants_review_and_an_unknown_version_are_404(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, b = tenants.a, tenants.b
    other = await api_client.post(
        f"/api/customers/{b.customer_id}/recommendations/{b.version}/review",
        json={},
        headers=bearer(tenants.buyer_a),
    )
    assert other.status_code == 404, other.text
    missing = await api_client.post(
        f"/api/customers/{a.customer_id}/recommendations/{a.version + 5}/review",
        json={},
        headers=bearer(tenants.buyer_a),
    )
    assert missing.status_code == 404, missing.text
