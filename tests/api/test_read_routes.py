"""Dashboard, recommendations, orders and cycles over data synced from the ERP simulator."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.recommend import recommend
from tests.api.conftest import Tenants, bearer


async def test_dashboard_summarises_the_synced_customer(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    base = f"/api/customers/{tenants.a.customer_id}"
    response = await api_client.get(f"{base}/dashboard", headers=bearer(tenants.buyer_a))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["customer"]["erp_code"] == tenants.a.erp_code
    assert body["customer"]["cycle"]["status"] == "awaiting_approval"
    assert body["products"]["total"] == 40
    assert body["products"]["unplanned"] == 0
    products = (
        await api_client.get(f"{base}/products?page_size=200", headers=bearer(tenants.buyer_a))
    ).json()["items"]
    at_risk = [p for p in products if p["status"] == "at_risk"]
    assert body["products"]["at_risk"] == len(at_risk)
    assert body["products"]["urgent"] == sum(p["urgent"] for p in products)
    run_outs = sorted(p["run_out_date"] for p in products if p["run_out_date"])
    assert body["next_run_out"]["run_out_date"] == run_outs[0]
    recommendation = body["recommendation"]
    assert recommendation["version"] == tenants.a.version
    assert recommendation["status"] == "current"
    assert body["urgent_containers"] == recommendation["urgent_containers"]
    assert body["open_orders"]["approved"] == 1
    assert set(body["open_orders"]) <= {"approved", "submitted", "in_transit"}
    assert body["last_sync"]["products"] == 40
    assert body["last_sync"]["data_quality"]["clean"] is (
        body["last_sync"]["data_quality"]["issues"] == 0
    )


async def test_recommendations_show_current_and_past_versions(
    api_client: httpx.AsyncClient,
    tenants: Tenants,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    base = f"/api/customers/{tenants.a.customer_id}"
    body = (
        await api_client.get(
            f"{base}/recommendations?page_size=200", headers=bearer(tenants.buyer_a)
        )
    ).json()
    current = body["current"]
    assert current["version"] == 1 and current["status"] == "current"
    assert current["containers"] and current["lines"]["total"] == len(current["lines"]["items"])
    line = current["lines"]["items"][0]
    assert line["explanation"]["text"]
    assert isinstance(line["urgent"], bool)
    in_containers = sum(cl["quantity"] for c in current["containers"] for cl in c["lines"])
    assert in_containers == sum(line["quantity"] for line in current["lines"]["items"])
    assert body["versions_total"] == 1
    urgent = (
        await api_client.get(f"{base}/recommendations?urgent=true", headers=bearer(tenants.buyer_a))
    ).json()["current"]["lines"]
    assert urgent["total"] == sum(line["urgent"] for line in current["lines"]["items"])
    assert all(line["urgent"] for line in urgent["items"])
    paged = (
        await api_client.get(
            f"{base}/recommendations?page_size=2&page=2", headers=bearer(tenants.buyer_a)
        )
    ).json()["current"]["lines"]
    assert [x["product_code"] for x in paged["items"]] == [
        x["product_code"] for x in current["lines"]["items"][2:4]
    ]
    # Same inputs, same version; changed settings make a new one and supersede the old one.
    # (The fixture approved an order after version 1, so the pipeline already changed.)
    second = await recommend(sessions, tenants.a.customer_id)
    assert (second.version, second.created) == (2, True)
    again = await recommend(sessions, tenants.a.customer_id)
    assert (again.version, again.created) == (2, False)
    settings_url = f"{base}/settings"
    values = (await api_client.get(settings_url, headers=bearer(tenants.ops))).json()
    values["target_soh_weeks"] += 4
    put = await api_client.put(settings_url, headers=bearer(tenants.ops), json=values)
    assert put.status_code == 200
    third = await recommend(sessions, tenants.a.customer_id)
    assert (third.version, third.created) == (3, True)
    assert third.lines != second.lines
    body = (await api_client.get(f"{base}/recommendations", headers=bearer(tenants.buyer_a))).json()
    assert body["current"]["version"] == 3
    assert [(v["version"], v["status"]) for v in body["versions"]] == [
        (3, "current"),
        (2, "superseded"),
        (1, "superseded"),
    ]
    old = await api_client.get(f"{base}/recommendations/1", headers=bearer(tenants.buyer_a))
    assert old.json()["status"] == "superseded" and old.json()["lines"]["items"]
    missing = await api_client.get(f"{base}/recommendations/4", headers=bearer(tenants.buyer_a))
    assert missing.status_code == 404 and missing.json()["field"] == "version"


async def test_orders_filter_by_status_and_date_and_paginate(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    base = f"/api/customers/{tenants.b.customer_id}/orders"
    headers = bearer(tenants.buyer_b)
    everything = (await api_client.get(f"{base}?page_size=200", headers=headers)).json()
    assert everything["total"] == len(everything["items"]) > 3
    statuses = {o["status"] for o in everything["items"]}
    assert "approved" in statuses and statuses - {"approved"}
    for status in statuses:
        page = (
            await api_client.get(f"{base}?status={status}&page_size=200", headers=headers)
        ).json()
        assert page["total"] == sum(o["status"] == status for o in everything["items"])
        assert {o["status"] for o in page["items"]} == {status}
    dates = sorted(o["ordered_on"] for o in everything["items"])
    middle = dates[len(dates) // 2]
    later = (
        await api_client.get(f"{base}?ordered_from={middle}&page_size=200", headers=headers)
    ).json()
    assert later["total"] == sum(d >= middle for d in dates)
    earlier = (
        await api_client.get(f"{base}?ordered_to={middle}&page_size=200", headers=headers)
    ).json()
    assert earlier["total"] == sum(d <= middle for d in dates)
    pages = [
        (await api_client.get(f"{base}?page={n}&page_size=2", headers=headers)).json()
        for n in (1, 2)
    ]
    assert [p["page"] for p in pages] == [1, 2] and all(p["page_size"] == 2 for p in pages)
    assert [o["id"] for p in pages for o in p["items"]] == [
        o["id"] for o in everything["items"][:4]
    ]
    bad = await api_client.get(
        f"{base}?ordered_from=2026-02-01&ordered_to=2026-01-01", headers=headers
    )
    assert bad.status_code == 422 and bad.json()["field"] == "ordered_from"
    detail = (await api_client.get(f"{base}/{tenants.b.order_id}", headers=headers)).json()
    assert detail["status"] == "approved" and detail["source"] == "restock"
    assert [h["status"] for h in detail["history"]] == ["approved"]
    assert detail["cartons"] == sum(line["quantity"] for line in detail["lines"])


async def test_ops_customer_list_shows_cycle_status(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    body = (await api_client.get("/api/customers", headers=bearer(tenants.ops))).json()
    assert body["total"] == 2 and body["page"] == 1
    for customer in body["items"]:
        assert customer["cycle"]["status"] == "awaiting_approval"
        assert customer["current_recommendation_version"] == 1
        assert customer["last_synced_at"].endswith("Z") or "+00:00" in customer["last_synced_at"]
    cycles = (
        await api_client.get(
            f"/api/customers/{tenants.a.customer_id}/cycles", headers=bearer(tenants.ops)
        )
    ).json()
    assert cycles["items"][0]["workflow_id"] == f"reorder-cycle-{tenants.a.customer_id}"


async def test_data_quality_report_for_ops(api_client: httpx.AsyncClient, tenants: Tenants) -> None:
    url = f"/api/customers/{tenants.b.customer_id}/data-quality"
    body = (await api_client.get(url, headers=bearer(tenants.ops))).json()
    assert body["erp_code"] == tenants.b.erp_code
    assert body["issues"] == sum(body["report"]["counts"].values())
    assert body["report"]["rows_kept"]["product"] == 400
