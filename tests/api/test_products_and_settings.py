"""Products search/filter/sort/paginate (incl. SQL metacharacters and HTML names) and settings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store import snapshots
from store.base import utcnow
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import AuditEntry, CustomerSettings, Role, SnapshotProduct
from tests.api.conftest import Tenants, TokenFor, bearer

SCRIPT = "<script>alert('x')</script> Coffee"
NAMES = {
    "A-001": "100% Arabica Beans",
    "A-002": "1000 Arabica Beans",
    "B_01": "Snake_case Sugar",
    "B-01": "Dash Sugar",
    "C-001": "O'Reilly's Oats",
    "C-002": "Oats -- double dash",
    "D-001": "Back\\slash Rice",
    "D-002": "Backslash Rice",
    "E-001": SCRIPT,
    "E-002": "MiXeD CaSe Tea",
}


def _product(code: str, name: str, i: int) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "pack_size": 1,
        "moq": 0,
        "product_status": "active",
        "carton_weight_kg": None,
        "carton_volume_m3": None,
        "stock_on_hand": None if i == 3 else i * 10,
        "shipments": [],
    }


@pytest.fixture
async def catalog(
    sessions: async_sessionmaker[AsyncSession], token_for: TokenFor
) -> tuple[int, str]:
    """A customer whose products have awkward names, planned by hand (repositories only)."""
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code="T-1", name="Tricky", timezone="UTC")
        await snapshots.save_snapshot(
            session,
            customer.id,
            synced_at=utcnow(),
            as_of=date(2026, 1, 5),
            profile={},
            data_quality={"counts": {}},
            products=[_product(c, n, i) for i, (c, n) in enumerate(NAMES.items())],
            shipment_count=0,
            order_count=0,
            fingerprint="x",
        )
        rows = list(await session.scalars(select(SnapshotProduct).order_by(SnapshotProduct.code)))
        statuses = ["at_risk", "healthy", "discontinued", "reorder", "healthy"]
        await snapshots.apply_plans(
            session,
            [
                {
                    "id": row.id,
                    "plan_status": statuses[i % len(statuses)],
                    "weeks_of_cover": None if i % 4 == 0 else float(i),
                    "run_out_date": None if i % 4 == 0 else date(2026, 2, 1) + timedelta(days=i),
                    "weekly_forecast": float(i),
                    "urgent": statuses[i % len(statuses)] == "at_risk",
                }
                for i, row in enumerate(rows)
            ],
        )
        customer_id = customer.id
    return customer_id, await token_for("buyer", Role.CUSTOMER, customer_id)


async def _codes(client: httpx.AsyncClient, url: str, token: str, **params: Any) -> list[str]:
    response = await client.get(url, headers=bearer(token), params={"page_size": 200, **params})
    assert response.status_code == 200, response.text
    return [p["code"] for p in response.json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("%", ["A-001"]),
        ("_", ["B_01"]),
        ("'", ["C-001", "E-001"]),
        ("--", ["C-002"]),
        ("\\", ["D-001"]),
        ("back\\slash", ["D-001"]),
        ("100%", ["A-001"]),
        ("b_0", ["B_01"]),
        ("' OR 1=1 --", []),
        ("mixed case", ["E-002"]),
        ("ARABICA", ["A-001", "A-002"]),
        ("<script>", ["E-001"]),
        ("e-00", ["E-001", "E-002"]),
    ],
)
async def test_search_takes_sql_metacharacters_literally(
    api_client: httpx.AsyncClient, catalog: tuple[int, str], query: str, expected: list[str]
) -> None:
    customer_id, token = catalog
    url = f"/api/customers/{customer_id}/products"
    assert sorted(await _codes(api_client, url, token, q=query)) == expected


async def test_html_in_names_comes_back_verbatim_as_json(
    api_client: httpx.AsyncClient, catalog: tuple[int, str]
) -> None:
    customer_id, token = catalog
    response = await api_client.get(
        f"/api/customers/{customer_id}/products", headers=bearer(token), params={"q": "script"}
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json()["items"][0]["name"] == SCRIPT
    assert "<script>" in response.text  # a JSON string, never rendered as markup
    dashboard = await api_client.get(
        f"/api/customers/{customer_id}/dashboard", headers=bearer(token)
    )
    assert dashboard.headers["content-type"] == "application/json"


async def test_filter_sort_and_paginate(
    api_client: httpx.AsyncClient, catalog: tuple[int, str]
) -> None:
    customer_id, token = catalog
    url = f"/api/customers/{customer_id}/products"
    everything = (
        await api_client.get(url, headers=bearer(token), params={"page_size": 200})
    ).json()["items"]
    at_risk = await _codes(api_client, url, token, status="at_risk")
    assert at_risk and set(at_risk) == {p["code"] for p in everything if p["status"] == "at_risk"}
    two = await _codes(api_client, url, token, status=["healthy", "discontinued"])
    assert set(two) == {p["code"] for p in everything if p["status"] in {"healthy", "discontinued"}}
    by_code = await _codes(api_client, url, token, sort="code")
    assert by_code == sorted(NAMES)  # byte order: "B-01" < "B_01" on both backends
    by_cover = (
        await api_client.get(url, headers=bearer(token), params={"sort": "cover", "page_size": 200})
    ).json()["items"]
    covers = [p["weeks_of_cover"] for p in by_cover]
    known = [c for c in covers if c is not None]
    assert covers == known + [None] * (len(covers) - len(known)) and known == sorted(known)
    desc = (
        await api_client.get(
            url, headers=bearer(token), params={"sort": "cover", "order": "desc", "page_size": 200}
        )
    ).json()["items"]
    desc_covers = [p["weeks_of_cover"] for p in desc]
    assert desc_covers[: len(known)] == sorted(known, reverse=True)  # NULLs still last
    page_1 = (
        await api_client.get(url, headers=bearer(token), params={"sort": "code", "page_size": 4})
    ).json()
    page_3 = (
        await api_client.get(
            url, headers=bearer(token), params={"sort": "code", "page_size": 4, "page": 3}
        )
    ).json()
    assert (page_1["total"], page_1["page"], page_1["page_size"]) == (len(NAMES), 1, 4)
    assert [p["code"] for p in page_1["items"]] == by_code[:4]
    assert [p["code"] for p in page_3["items"]] == by_code[8:]
    oats_or_rice = await _codes(api_client, url, token, q="o", status=["healthy", "reorder"])
    assert oats_or_rice == [
        p["code"]
        for p in everything
        if "o" in (p["code"] + " " + p["name"]).lower() and p["status"] in {"healthy", "reorder"}
    ]
    past_the_end = (
        await api_client.get(
            url,
            headers=bearer(token),
            params={"q": "o", "status": ["healthy", "reorder"], "page_size": 4, "page": 9},
        )
    ).json()
    assert (past_the_end["items"], past_the_end["total"]) == ([], len(oats_or_rice))
    for params, field in (
        ({"page_size": 0}, "page_size"),
        ({"page_size": 201}, "page_size"),
        ({"page": 0}, "page"),
        ({"status": "lost"}, "status.0"),
        ({"sort": "price"}, "sort"),
        ({"q": "x" * 101}, "q"),
    ):
        bad = await api_client.get(url, headers=bearer(token), params=params)
        assert bad.status_code == 422, params
        assert bad.json()["field"] == field


@pytest.fixture
async def ops_and_customer(
    sessions: async_sessionmaker[AsyncSession], token_for: TokenFor
) -> tuple[int, str]:
    async with unit_of_work(sessions) as session:
        customer_id = (
            await upsert_customer(session, erp_code="S-1", name="Settings", timezone="UTC")
        ).id
    return customer_id, await token_for("ops", Role.OPS)


async def test_settings_round_trip_and_audit(
    api_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    ops_and_customer: tuple[int, str],
) -> None:
    customer_id, token = ops_and_customer
    url = f"/api/customers/{customer_id}/settings"
    values = (await api_client.get(url, headers=bearer(token))).json()
    assert values["target_soh_weeks"] == 8 and values["container_capacity_cartons"] == 90_000
    changed = {
        **values,
        "timezone": "Europe/Berlin",
        "lead_time_weeks": 6,
        "container_max_weight_kg": 26_000.0,
        "target_soh_overrides": {"P-1": 12.0},
        "auto_approve_max_value": "250000.55",  # exact: decimal text, never a float
    }
    response = await api_client.put(url, headers=bearer(token), json=changed)
    assert response.status_code == 200
    assert response.json() == changed
    assert (await api_client.get(url, headers=bearer(token))).json() == changed
    # The same values again change nothing, so nothing more is audited.
    assert (await api_client.put(url, headers=bearer(token), json=changed)).status_code == 200
    async with sessions() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.updated"))
        )
    assert len(entries) == 1
    assert entries[0].actor == "user:ops" and entries[0].customer_id == customer_id
    assert entries[0].details["changes"]["lead_time_weeks"] == {"from": 10, "to": 6}
    assert entries[0].details["changes"]["timezone"] == {"from": "UTC", "to": "Europe/Berlin"}
    audit = (
        await api_client.get(
            "/api/audit", headers=bearer(token), params={"customer_id": customer_id}
        )
    ).json()
    assert [e["action"] for e in audit["items"]] == ["settings.updated"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_soh_weeks": 0}, "target_soh_weeks"),
        ({"target_soh_weeks": "lots"}, "target_soh_weeks"),
        ({"lead_time_weeks": 53}, "lead_time_weeks"),
        ({"container_capacity_cartons": -1}, "container_capacity_cartons"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"service_level": 1.0}, "service_level"),
        ({"forecast_method": "crystal_ball"}, "forecast_method"),
        ({"cycle_weekday": 7}, "cycle_weekday"),
        ({"reminder_hours": 100}, "reminder_hours"),
        ({"target_soh_overrides": {"P-1": 0}}, "target_soh_overrides.P-1"),
        ({"unknown_knob": 1}, "unknown_knob"),
        ({"auto_approve_max_value": "-5"}, "auto_approve_max_value"),
        ({"auto_approve_max_value": "a lot"}, "auto_approve_max_value"),
        ({"auto_approve_max_value": "0.00001"}, "auto_approve_max_value"),
    ],
)
async def test_invalid_settings_are_refused_naming_the_field(
    api_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    ops_and_customer: tuple[int, str],
    change: dict[str, Any],
    field: str,
) -> None:
    customer_id, token = ops_and_customer
    url = f"/api/customers/{customer_id}/settings"
    values = (await api_client.get(url, headers=bearer(token))).json()
    response = await api_client.put(
        url, headers=bearer(token), json={**values, "lead_time_weeks": 3, **change}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
    assert response.json()["field"] == field
    async with sessions() as session:
        stored = await session.get(CustomerSettings, customer_id)
        audited = await session.scalar(select(func.count()).select_from(AuditEntry))
    assert stored is not None and stored.lead_time_weeks == 10  # nothing stored
    assert audited == 1  # only the user creation


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"container_capacity_cartons": 1}, "container_capacity_cartons"),
        ({"container_max_volume_m3": 5e-324}, "container_max_volume_m3"),
        ({"container_max_weight_kg": 0.001}, "container_max_weight_kg"),
    ],
)
async def test_a_container_no_pack_fits_in_is_refused(
    api_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    tenants: Tenants,
    change: dict[str, Any],
    field: str,
) -> None:
    """A container of 1 carton or 5e-324 m³ would make every plan unpackable: refused against
    the customer's products, naming the field and the product; nothing is stored."""
    url = f"/api/customers/{tenants.a.customer_id}/settings"
    before = (await api_client.get(url, headers=bearer(tenants.ops))).json()
    response = await api_client.put(url, headers=bearer(tenants.ops), json={**before, **change})
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "container_too_small"
    assert body["field"] == field and "one pack of product" in body["detail"], body
    assert "no plan could be packed" in body["detail"]
    assert (await api_client.get(url, headers=bearer(tenants.ops))).json() == before
    room = {"container_max_volume_m3": 76.0, "container_max_weight_kg": 26_000.0}
    fits = {**before, field: before[field] if field not in room else room[field]}
    assert (await api_client.put(url, headers=bearer(tenants.ops), json=fits)).status_code == 200
