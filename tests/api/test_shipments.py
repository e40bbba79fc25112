"""Shipment lists: a customer's own (late first), every customer's for ops, and the orders page
and ops console that show them. The shipments' rows are written as `record_shipment` writes
them (the workflow itself is tested in tests/workflows)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.shipments import record_shipment
from store import orders as orders_repo
from store.db import unit_of_work
from store.models import OrderSource, OrderStatus
from tests.api.conftest import Tenants, bearer
from workflows.contract.shipment import ShipmentChange, ShipmentRecord, ShipmentStatus

PROMISED = date(2027, 2, 1)


async def _shipment(
    sessions: async_sessionmaker[AsyncSession],
    customer_id: int,
    number: str,
    *,
    eta: date,
    status: ShipmentStatus,
    late_reason: str | None = None,
) -> int:
    async with unit_of_work(sessions) as session:
        order = await orders_repo.create_order(
            session,
            customer_id=customer_id,
            status=OrderStatus.SUBMITTED,
            source=OrderSource.RESTOCK,
            ordered_on=date(2026, 11, 23),
            lines=[{"product_code": "X", "quantity": 10}],
            actor="test",
            erp_order_number=number,
            eta=PROMISED,
        )
        order_id = order.id
    erp_status = "delivered" if status is ShipmentStatus.DELIVERED else "in_transit"
    await record_shipment(
        sessions,
        ShipmentRecord(
            workflow_id=f"shipment-{customer_id}-{number}",
            customer_id=customer_id,
            order_id=order_id,
            status=status,
            erp_status=erp_status,
            promised_eta=PROMISED,
            eta=eta,
            delivered_on=eta if status is ShipmentStatus.DELIVERED else None,
            late=late_reason is not None,
            late_reason=late_reason,
            changes=[ShipmentChange(kind="shipped", detail="shipped")],
            at=datetime(2027, 1, 4, 6, tzinfo=UTC),
        ),
    )
    return order_id


async def test_shipments_late_first_own_tenant_only_and_ops_see_all(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    a, b = tenants.a.customer_id, tenants.b.customer_id
    on_time = await _shipment(sessions, a, "SO-A1", eta=PROMISED, status=ShipmentStatus.IN_TRANSIT)
    late = await _shipment(
        sessions,
        a,
        "SO-A2",
        eta=date(2027, 2, 12),
        status=ShipmentStatus.LATE,
        late_reason="ETA 2027-02-12 is past the promised 2027-02-01",
    )
    done = await _shipment(sessions, a, "SO-A3", eta=PROMISED, status=ShipmentStatus.DELIVERED)
    other = await _shipment(sessions, b, "SO-B1", eta=PROMISED, status=ShipmentStatus.IN_TRANSIT)

    mine = await api_client.get(f"/api/customers/{a}/shipments", headers=bearer(tenants.buyer_a))
    assert mine.status_code == 200, mine.text
    rows = mine.json()["items"]
    assert [r["order_id"] for r in rows] == [late, on_time]  # late first; delivered not open
    assert rows[0]["status"] == "late" and rows[0]["late_reason"].startswith("ETA 2027-02-12")
    assert rows[0]["promised_eta"] == "2027-02-01" and rows[0]["eta"] == "2027-02-12"
    assert "temporal_ui_url" not in rows[0]  # customers get no Temporal links
    every = await api_client.get(
        f"/api/customers/{a}/shipments", params={"open": "false"}, headers=bearer(tenants.buyer_a)
    )
    assert {r["order_id"] for r in every.json()["items"]} == {late, on_time, done}

    foreign = await api_client.get(f"/api/customers/{b}/shipments", headers=bearer(tenants.buyer_a))
    assert foreign.status_code == 404
    assert (
        await api_client.get("/api/shipments", headers=bearer(tenants.buyer_a))
    ).status_code in (403,)

    ops = await api_client.get("/api/shipments", headers=bearer(tenants.ops))
    assert ops.status_code == 200, ops.text
    listed = ops.json()["items"]
    assert listed[0]["order_id"] == late
    assert {r["order_id"] for r in listed} == {late, on_time, other}
    assert listed[0]["temporal_ui_url"].endswith(f"/workflows/shipment-{a}-SO-A2")
    assert listed[0]["customer_name"] == "Harbour Deli Supplies"  # K-10040's ERP name
    late_only = await api_client.get(
        "/api/shipments", params={"late": "true"}, headers=bearer(tenants.ops)
    )
    assert [r["order_id"] for r in late_only.json()["items"]] == [late]
    bad = await api_client.get(
        "/api/shipments", params={"customer_id": "0"}, headers=bearer(tenants.ops)
    )
    assert bad.status_code == 422 and bad.json()["field"] == "customer_id"

    # The pages show the same: the orders page lists what is on the way, late first; the ops
    # console lists every customer's shipments with their workflow links.
    page = await api_client.get(f"/customers/{a}/orders", headers=bearer(tenants.buyer_a))
    assert page.status_code == 200
    html = page.text
    assert html.index("SO-A2") < html.index("SO-A1")
    assert "is past the promised 2027-02-01" in html and 'class="late"' in html
    console = await api_client.get("/ops", headers=bearer(tenants.ops))
    assert console.status_code == 200
    assert "1 late" in console.text and f"shipment-{a}-SO-A2" in console.text
