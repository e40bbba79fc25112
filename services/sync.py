"""Sync one customer from the ERP into the store: profile, products, stock, history, orders."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import NotFound
from erp.errors import ErpError
from erp.models import ErpSnapshot
from planning import pricing
from planning.models import ErpOrder, Product
from planning.models import OrderStatus as ErpOrderStatus
from services import consumption, prices
from services.consumption import Reports, StockCounts
from services.fingerprints import content_fingerprint
from services.schemas import SyncResult
from store import audit, snapshots
from store import customer_settings as settings_repo
from store import orders as orders_repo
from store.db import reading, unit_of_work
from store.models import Customer, Order, OrderSource, OrderStatus

# An order the ERP lists has been submitted, whatever the ERP calls its first state.
_FROM_ERP = {
    ErpOrderStatus.APPROVED: OrderStatus.SUBMITTED,
    ErpOrderStatus.IN_TRANSIT: OrderStatus.IN_TRANSIT,
    ErpOrderStatus.DELIVERED: OrderStatus.DELIVERED,
    ErpOrderStatus.CANCELLED: OrderStatus.CANCELLED,
}
ERP_ACTOR = "erp:sync"
log = logging.getLogger(__name__)


class SnapshotSource(Protocol):
    """What sync needs from the ERP connector (`erp.client.ErpClient` is one)."""

    async def sync_snapshot(
        self, code: str, as_of: date | None = None, *, activity_since: date | None = None
    ) -> ErpSnapshot: ...


async def sync_customer(
    sessions: async_sessionmaker[AsyncSession],
    erp: SnapshotSource,
    customer_id: int,
    *,
    actor: str = "system:sync",
    attempt: int = 1,
) -> SyncResult:
    """Fetch the customer's ERP snapshot and store it in one commit. Idempotent: syncing
    unchanged ERP data rewrites nothing but the sync time. The audit log records how long
    it took and which attempt it was (`attempt`, the activity's), and each failed read of
    the ERP: the supplier's ERP health figures are read from there."""
    started = time.perf_counter()
    async with reading(sessions) as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found")
        erp_code = customer.erp_code
        before = await snapshots.get_snapshot(session, customer_id)
        reported = None if before is None else before.consumption_through
    # Consumption reports come in week by week: ask for the weeks after the last one kept.
    since = None if reported is None else reported + timedelta(days=7)
    try:
        snapshot = await erp.sync_snapshot(erp_code, activity_since=since)
    except ErpError as err:
        await _record_failure(sessions, customer_id, actor, attempt, err)
        raise
    fingerprint = snapshot_fingerprint(snapshot)
    async with unit_of_work(sessions) as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found")
        customer.name = snapshot.profile.name
        await _adopt_erp_settings(session, customer_id, snapshot)
        previous = await snapshots.get_snapshot(session, customer_id)
        changed = previous is None or previous.fingerprint != fingerprint
        products = _product_rows(
            snapshot,
            await snapshots.consumption_history(session, customer_id) if changed else {},
        )
        await snapshots.save_snapshot(
            session,
            customer_id,
            synced_at=snapshot.synced_at,
            as_of=snapshot.erp_as_of,
            profile=snapshot.profile.model_dump(mode="json"),
            data_quality=snapshot.data_quality.model_dump(mode="json"),
            products=products,
            shipment_count=len(snapshot.shipments),
            order_count=len(snapshot.orders),
            fingerprint=fingerprint,
            consumption_through=consumption.last_week(
                snapshot.consumption, None if previous is None else previous.consumption_through
            ),
        )
        created, updated = await _reconcile_orders(session, customer_id, snapshot.orders)
        result = SyncResult(
            customer_id=customer_id,
            erp_code=erp_code,
            synced_at=snapshot.synced_at,
            as_of=snapshot.erp_as_of,
            products=len(snapshot.products),
            shipments=len(snapshot.shipments),
            orders=len(snapshot.orders),
            orders_created=created,
            orders_updated=updated,
            data_quality_issues=snapshot.data_quality.issue_count,
            changed=changed,
        )
        await audit.append(
            session,
            actor=actor,
            action=audit.ERP_SYNCED,
            customer_id=customer_id,
            target_type="snapshot",
            target_id=customer_id,
            details={
                **result.model_dump(mode="json", exclude={"customer_id", "erp_code"}),
                "attempt": attempt,
                "duration_s": round(time.perf_counter() - started, 3),
            },
        )
    return result


async def _record_failure(
    sessions: async_sessionmaker[AsyncSession],
    customer_id: int,
    actor: str,
    attempt: int,
    err: ErpError,
) -> None:
    """An `erp.sync_failed` entry; a store that cannot take it is logged, never raised
    (the ERP's error is the one the caller must see)."""
    try:
        async with unit_of_work(sessions) as session:
            await audit.append(
                session,
                actor=actor,
                action=audit.ERP_SYNC_FAILED,
                customer_id=customer_id,
                target_type="snapshot",
                target_id=customer_id,
                details={"attempt": attempt, "error": type(err).__name__, "message": str(err)},
            )
    except Exception:
        log.exception("could not record the failed sync of customer %s", customer_id)


async def _adopt_erp_settings(
    session: AsyncSession, customer_id: int, snapshot: ErpSnapshot
) -> None:
    """The ERP's lead time and container size, until a person sets them: settings a cycle
    created before the first sync (with the defaults) follow the ERP too."""
    row = await settings_repo.get_or_create(
        session,
        customer_id,
        lead_time_weeks=snapshot.profile.lead_time_weeks,
        container_capacity_cartons=snapshot.profile.container_capacity_cartons,
    )
    if row.updated_by is None:
        row.lead_time_weeks = snapshot.profile.lead_time_weeks
        row.container_capacity_cartons = snapshot.profile.container_capacity_cartons


def snapshot_fingerprint(snapshot: ErpSnapshot) -> str:
    """A hash of the synced content, leaving out when it was synced and the consumption
    reports: those come week by week (a sync reads only the weeks after the last one kept),
    and a new week moves the business date, which the hash holds."""
    content = snapshot.model_dump(
        mode="json", exclude={"synced_at", "consumption", "consumption_since"}
    )
    for counts in ("rows_received", "rows_kept"):  # how many weeks this sync read
        content["data_quality"][counts].pop("activity", None)
    return content_fingerprint(content)


def _product_rows(
    snapshot: ErpSnapshot, kept: Mapping[str, tuple[StockCounts | None, Reports | None]]
) -> list[dict[str, Any]]:
    """The products' rows: as the ERP has them, with their shipments by day, the stock this
    sync read added to the counts `kept` from earlier syncs, and the ERP's new consumption
    reports added to those kept."""
    history: dict[str, dict[int, int]] = {}
    for shipment in snapshot.shipments:
        days = history.setdefault(shipment.product_code, {})
        ordinal = shipment.ship_date.toordinal()
        days[ordinal] = days.get(ordinal, 0) + shipment.quantity
    reports = consumption.by_product(snapshot.consumption)
    price_list = pricing.by_product(snapshot.prices)
    as_of = snapshot.erp_as_of
    rows = []
    for p in snapshot.products:
        counts, reported = kept.get(p.code, (None, None))
        rows.append(
            {
                **_product_fields(p),
                "shipments": [[d, q] for d, q in sorted(history.get(p.code, {}).items())],
                "stock_counts": consumption.with_stock_count(counts, as_of, p.stock_on_hand),
                "consumption": consumption.with_reports(reported, reports.get(p.code, ()), as_of)
                if snapshot.consumption_reported
                else None,
                "prices": prices.stored(price_list.get(p.code, ()))
                if snapshot.prices_reported
                else None,
            }
        )
    return rows


def _product_fields(p: Product) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "pack_size": p.pack_size,
        "moq": p.moq,
        "product_status": p.status.value,
        "carton_weight_kg": p.carton_weight_kg,
        "carton_volume_m3": p.carton_volume_m3,
        "stock_on_hand": p.stock_on_hand,
    }


async def _reconcile_orders(
    session: AsyncSession, customer_id: int, erp_orders: Sequence[ErpOrder]
) -> tuple[int, int]:
    """Create orders the ERP has and we do not; move ours forward to the ERP's status."""
    created = updated = 0
    index = await orders_repo.erp_order_index(
        session,
        customer_id,
        {o.order_number for o in erp_orders},
        {o.reference for o in erp_orders if o.reference},
    )
    for erp_order in erp_orders:
        ours = index.match(erp_order.order_number, erp_order.reference)
        status = _FROM_ERP[erp_order.status]
        if ours is None:
            new = await orders_repo.create_order(
                session,
                customer_id=customer_id,
                status=status,
                source=OrderSource.ERP,
                ordered_on=erp_order.ordered_on,
                lines=[line.model_dump() for line in erp_order.lines],
                actor=ERP_ACTOR,
                erp_order_number=erp_order.order_number,
                eta=erp_order.eta,
                delivered_on=erp_order.delivered_on,
                note="found in the ERP",
            )
            index.add(new)
            created += 1
        elif await _follow_erp(session, ours, erp_order, status):
            index.add(ours)
            updated += 1
    return created, updated


async def _follow_erp(
    session: AsyncSession, order: Order, erp_order: ErpOrder, status: OrderStatus
) -> bool:
    changed = False
    for attr, value in (
        ("erp_order_number", erp_order.order_number),
        ("eta", erp_order.eta),
        ("delivered_on", erp_order.delivered_on),
    ):
        if value is not None and getattr(order, attr) != value:
            setattr(order, attr, value)
            changed = True
    if orders_repo.moves_forward(OrderStatus(order.status), status):
        await orders_repo.set_status(session, order, status, actor=ERP_ACTOR, note="ERP status")
        changed = True
    elif status is OrderStatus.CANCELLED and order.status != OrderStatus.DELIVERED.value:
        changed = (
            await orders_repo.set_status(
                session, order, status, actor=ERP_ACTOR, note="cancelled in the ERP"
            )
            or changed
        )
    return changed
