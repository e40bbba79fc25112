"""The customer dashboard's read: one query for everything but the product counts, which the
snapshot keeps pre-computed (`Snapshot.product_health`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import execute_core
from store.models import (
    Customer,
    Cycle,
    Order,
    RecommendationRecord,
    Snapshot,
)
from store.models.orders import OPEN_ORDER_STATUSES
from store.snapshots import ProductHealth, product_health

CYCLE_FIELDS = (
    "id",
    "workflow_id",
    "status",
    "recommendation_version",
    "order_id",
    "detail",
    "started_at",
    "updated_at",
    "finished_at",
)
RECOMMENDATION_FIELDS = (
    "version",
    "status",
    "as_of",
    "summary",
    "container_count",
    "urgent_container_count",
    "cartons",
    "totals",
)
CUSTOMER_FIELDS = ("id", "erp_code", "name", "timezone")
SNAPSHOT_FIELDS = ("synced_at", "as_of", "product_count", "data_quality", "product_health")


@dataclass(frozen=True)
class DashboardData:
    """Each part is None when the customer has none yet (no sync, no version, …);
    `recommendation` is the latest version, with its status."""

    customer: dict[str, Any]
    snapshot: dict[str, Any] | None
    recommendation: dict[str, Any] | None
    cycle: dict[str, Any] | None
    open_orders: dict[str, int]
    health: ProductHealth


def _dashboard_statement() -> Select[Any]:
    """Built once: constructing this select and its cache key cost about a fifth of the
    dashboard's CPU when it was built per request (bench/api.py)."""
    customers = Customer.__table__.c
    cycles = Cycle.__table__.c
    recs = RecommendationRecord.__table__.c
    snaps = Snapshot.__table__.c
    orders = Order.__table__.c
    customer_id = bindparam("customer_id", type_=Integer)
    # The latest version, whatever its status: after an approval the dashboard says "v3,
    # approved", not "no recommendation yet".
    latest_version = (
        select(func.max(recs.version)).where(recs.customer_id == customer_id).scalar_subquery()
    )
    latest_cycle = (
        select(func.max(cycles.id)).where(cycles.customer_id == customer_id).scalar_subquery()
    )
    open_counts = [
        select(func.count())
        .where(orders.customer_id == customer_id, orders.status == status.value)
        .scalar_subquery()
        .label(f"orders__{status.value}")
        for status in OPEN_ORDER_STATUSES
    ]
    return (
        select(
            *(customers[f].label(f"customer__{f}") for f in CUSTOMER_FIELDS),
            *(snaps[f].label(f"snapshot__{f}") for f in SNAPSHOT_FIELDS),
            *(recs[f].label(f"recommendation__{f}") for f in RECOMMENDATION_FIELDS),
            *(cycles[f].label(f"cycle__{f}") for f in CYCLE_FIELDS),
            *open_counts,
        )
        .select_from(Customer.__table__)
        .outerjoin(Snapshot.__table__, snaps.customer_id == customers.id)
        .outerjoin(
            RecommendationRecord.__table__,
            and_(recs.customer_id == customers.id, recs.version == latest_version),
        )
        .outerjoin(
            Cycle.__table__,
            and_(cycles.customer_id == customers.id, cycles.id == latest_cycle),
        )
        .where(customers.id == customer_id)
        .limit(1)
    )


_DASHBOARD = _dashboard_statement()


async def dashboard_data(session: AsyncSession, customer_id: int) -> DashboardData | None:
    """The customer's dashboard; None when there is no such customer."""
    row = (await execute_core(session, _DASHBOARD, {"customer_id": customer_id})).mappings().first()
    if row is None:
        return None
    parts: dict[str, dict[str, Any]] = {
        "customer": {},
        "snapshot": {},
        "recommendation": {},
        "cycle": {},
    }
    open_orders: dict[str, int] = {}
    for key, value in row.items():
        part, field = key.split("__", 1)
        if part == "orders":
            if value:
                open_orders[field] = int(value)
        else:
            parts[part][field] = value
    snapshot = parts["snapshot"] if parts["snapshot"].get("synced_at") is not None else None
    stored = None if snapshot is None else snapshot.pop("product_health")
    health = (
        ProductHealth.from_json(stored)
        if stored is not None
        else await product_health(session, customer_id)
    )
    return DashboardData(
        customer=parts["customer"],
        snapshot=snapshot,
        recommendation=parts["recommendation"]
        if parts["recommendation"].get("version") is not None
        else None,
        cycle=parts["cycle"] if parts["cycle"].get("id") is not None else None,
        open_orders=open_orders,
        health=health,
    )
