"""Store behaviour the API relies on, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import String, cast, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import planning
from store import audit, cycles, snapshots
from store import orders as orders_repo
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import (
    AuditEntry,
    Cycle,
    OrderSource,
    OrderStatus,
    OrderStatusChange,
    PlanStatus,
    Snapshot,
    SnapshotProduct,
)
from store.models.audit import AuditLogIsAppendOnly


async def _customer(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with unit_of_work(sessions) as session:
        return (await upsert_customer(session, erp_code="S-1", name="S", timezone="UTC")).id


async def test_audit_log_is_append_only(sessions: async_sessionmaker[AsyncSession]) -> None:
    customer_id = await _customer(sessions)
    async with unit_of_work(sessions) as session:
        await audit.append(session, actor="cli", action="x.done", customer_id=customer_id)
    with pytest.raises(AuditLogIsAppendOnly):
        async with unit_of_work(sessions) as session:
            entry = await session.scalar(select(AuditEntry))
            assert entry is not None
            entry.action = "x.undone"
    with pytest.raises(AuditLogIsAppendOnly):
        async with unit_of_work(sessions) as session:
            entry = await session.scalar(select(AuditEntry))
            await session.delete(entry)
    async with sessions() as session:
        assert list(await session.scalars(select(AuditEntry.action))) == ["x.done"]


async def test_datetimes_come_back_aware_in_utc(sessions: async_sessionmaker[AsyncSession]) -> None:
    customer_id = await _customer(sessions)
    started = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    async with unit_of_work(sessions) as session:
        await cycles.record_cycle(
            session, workflow_id="wf-1", customer_id=customer_id, status="syncing", at=started
        )
    async with sessions() as session:
        cycle = await session.scalar(select(Cycle))
    assert cycle is not None and cycle.started_at == started
    assert (
        cycle.started_at.utcoffset() is not None
        and cycle.started_at.utcoffset().total_seconds() == 0
    )


async def test_record_cycle_is_idempotent_and_keeps_what_it_is_not_told(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customer_id = await _customer(sessions)
    for status, version in (
        ("syncing", None),
        ("awaiting_approval", 3),
        ("awaiting_approval", None),
    ):
        async with unit_of_work(sessions) as session:
            await cycles.record_cycle(
                session,
                workflow_id="wf-1",
                customer_id=customer_id,
                status=status,
                recommendation_version=version,
            )
    async with unit_of_work(sessions) as session:
        await cycles.record_cycle(
            session, workflow_id="wf-1", customer_id=customer_id, status="completed", finished=True
        )
    async with sessions() as session:
        rows = list(await session.scalars(select(Cycle)))
        latest = await cycles.latest_cycles(session, [customer_id])
    assert len(rows) == 1
    assert (rows[0].status, rows[0].recommendation_version) == ("completed", 3)
    assert rows[0].finished_at is not None and latest[customer_id].id == rows[0].id


async def test_order_status_changes_append_history_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customer_id = await _customer(sessions)
    async with unit_of_work(sessions) as session:
        order = await orders_repo.create_order(
            session,
            customer_id=customer_id,
            status=OrderStatus.APPROVED,
            source=OrderSource.RESTOCK,
            ordered_on=date(2026, 3, 1),
            lines=[{"product_code": "P-1", "quantity": 10}],
            actor="user:a",
            idempotency_key="k-1",
        )
        assert await orders_repo.set_status(session, order, OrderStatus.SUBMITTED, actor="wf")
        assert not await orders_repo.set_status(session, order, OrderStatus.SUBMITTED, actor="wf")
        order_id = order.id
    async with sessions() as session:
        history = list(
            await session.scalars(
                select(OrderStatusChange.status)
                .where(OrderStatusChange.order_id == order_id)
                .order_by(OrderStatusChange.id)
            )
        )
        assert await orders_repo.get_order(session, customer_id + 1, order_id) is None
    assert history == ["approved", "submitted"]


def _product(code: str, name: str) -> dict[str, object]:
    return {
        "code": code,
        "name": name,
        "pack_size": 1,
        "moq": 0,
        "product_status": "active",
        "carton_weight_kg": None,
        "carton_volume_m3": None,
        "stock_on_hand": 10,
        "shipments": [],
    }


async def test_stored_product_health_follows_every_product_write(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The dashboard reads `Snapshot.product_health`; it must equal a live count after sync
    (new products unplanned), after plans, after a re-sync that drops a product, and the
    read falls back to counting when no summary is stored."""
    customer_id = await _customer(sessions)

    async def sync(codes: list[str], fingerprint: str) -> None:
        async with unit_of_work(sessions) as session:
            await snapshots.save_snapshot(
                session,
                customer_id,
                synced_at=datetime.now(UTC),
                as_of=date(2026, 1, 5),
                profile={},
                data_quality={},
                products=[_product(c, f"Product {c}") for c in codes],
                shipment_count=0,
                order_count=0,
                fingerprint=fingerprint,
            )

    async def stored_and_live() -> tuple[snapshots.ProductHealth, snapshots.ProductHealth]:
        async with sessions() as session:
            stored = await snapshots.product_health(session, customer_id)
            live = await snapshots._live_health_of(session, customer_id)
        return stored, live

    await sync(["B", "A", "C"], "one")
    stored, live = await stored_and_live()
    assert stored == live == snapshots.ProductHealth({"unplanned": 3}, 0, None)

    async with unit_of_work(sessions) as session:
        rows = await session.execute(select(SnapshotProduct.code, SnapshotProduct.id))
        ids = {code: product_id for code, product_id in rows}
        await snapshots.apply_plans(
            session,
            [
                {
                    "id": ids["A"],
                    "plan_status": "at_risk",
                    "urgent": True,
                    "run_out_date": date(2026, 2, 1),
                    "weeks_of_cover": 1.5,
                },
                {
                    "id": ids["B"],
                    "plan_status": "at_risk",
                    "urgent": False,
                    "run_out_date": date(2026, 2, 1),
                    "weeks_of_cover": 2.0,
                },
                {
                    "id": ids["C"],
                    "plan_status": "healthy",
                    "urgent": False,
                    "run_out_date": None,
                    "weeks_of_cover": None,
                },
            ],
        )
    stored, live = await stored_and_live()
    assert stored == live
    assert stored.by_status == {"at_risk": 2, "healthy": 1} and stored.urgent == 1
    assert stored.next_run_out == snapshots.NextRunOut("A", "Product A", date(2026, 2, 1), 1.5)

    await sync(["B", "C", "D"], "two")  # A is gone, D is new
    stored, live = await stored_and_live()
    assert stored == live
    assert stored.by_status == {"at_risk": 1, "healthy": 1, "unplanned": 1}
    assert stored.next_run_out is not None and stored.next_run_out.code == "B"

    async with unit_of_work(sessions) as session:
        await session.execute(update(Snapshot).values(product_health=None))
    stored, live = await stored_and_live()
    assert stored == live and stored.urgent == 0


def test_the_stored_plan_statuses_are_the_planners_and_unplanned() -> None:
    """The read model filters and counts products by the stored status; one the planner gives
    but the store does not know would be refused as a filter and missing from the counts."""
    assert {status.value for status in PlanStatus} == {
        status.value for status in planning.PlanStatus
    } | {"unplanned"}


async def test_json_columns_store_compact_utf8_text_and_read_back_the_same_values(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    details = {
        "note": "Café ☕, 12 cartons",
        "big": 10**20,
        "share": 0.1,
        "tiny": 1e-7,
        "nested": {"1": [1, 2.5, None, True, -0.0]},
    }
    async with unit_of_work(sessions) as session:
        await audit.append(session, actor="cli", action="x.done", details=details)
    async with sessions() as session:
        assert await session.scalar(select(AuditEntry.details)) == details
        text = await session.scalar(select(cast(AuditEntry.details, String)))
    assert text is not None and json.loads(text) == details
    assert '"note":"Café ☕, 12 cartons"' in text  # not escaped to \u sequences
    assert ", " not in text.replace("Café ☕, 12", "") and ": " not in text
