"""The latest ERP snapshot per customer and its products (with their latest plan)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only, undefer

from store.models import PlanStatus, Snapshot, SnapshotProduct
from store.pagination import Page, PageRequest, like_pattern, paginate_rows
from store.sql import byte_order, collated_byte_order

# Columns that sync writes; the plan columns are left to `apply_plans`.
SYNCED_PRODUCT_FIELDS = (
    "name",
    "pack_size",
    "moq",
    "product_status",
    "carton_weight_kg",
    "carton_volume_m3",
    "stock_on_hand",
    "shipments",
    "stock_counts",
    "consumption",
    "prices",
)


def search_text(code: str, name: str) -> str:
    return f"{code} {name}".lower()


async def get_snapshot(session: AsyncSession, customer_id: int) -> Snapshot | None:
    return await session.get(Snapshot, customer_id)


async def save_snapshot(
    session: AsyncSession,
    customer_id: int,
    *,
    synced_at: datetime,
    as_of: date,
    profile: dict[str, Any],
    data_quality: dict[str, Any],
    products: Sequence[dict[str, Any]],
    shipment_count: int,
    order_count: int,
    fingerprint: str,
    consumption_through: date | None = None,
) -> Snapshot:
    """Replace the customer's snapshot. Products are upserted by code (keeping their last
    plan until the next recommendation), and products the ERP no longer lists are removed.

    Each product dict has `code` and every field in `SYNCED_PRODUCT_FIELDS`.
    """
    snapshot = await session.get(Snapshot, customer_id)
    unchanged = snapshot is not None and snapshot.fingerprint == fingerprint
    if snapshot is None:
        snapshot = Snapshot(customer_id=customer_id)
        session.add(snapshot)
    snapshot.synced_at = synced_at
    snapshot.as_of = as_of
    snapshot.profile = profile
    snapshot.data_quality = data_quality
    snapshot.product_count = len(products)
    snapshot.shipment_count = shipment_count
    snapshot.order_count = order_count
    snapshot.fingerprint = fingerprint
    snapshot.consumption_through = consumption_through
    if not unchanged:
        await _upsert_products(session, customer_id, products)
    await session.flush()
    if not unchanged or snapshot.product_health is None:
        snapshot.product_health = await _live_health(session, customer_id)
        await session.flush()
    return snapshot


async def _upsert_products(
    session: AsyncSession, customer_id: int, products: Sequence[dict[str, Any]]
) -> None:
    rows = await session.execute(
        select(SnapshotProduct.code, SnapshotProduct.id).where(
            SnapshotProduct.customer_id == customer_id
        )
    )
    existing = {code: product_id for code, product_id in rows}
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for product in products:
        row = {key: product.get(key) for key in SYNCED_PRODUCT_FIELDS}
        row["search_text"] = search_text(product["code"], product["name"])
        product_id = existing.pop(product["code"], None)
        if product_id is None:
            inserts.append(
                {
                    **row,
                    "customer_id": customer_id,
                    "code": product["code"],
                    "plan_status": PlanStatus.UNPLANNED.value,
                    "forecast": [],
                    "pipeline": 0,
                    "ordered_quantity": 0,
                    "urgent": False,
                }
            )
        else:
            updates.append({**row, "id": product_id})
    if existing:
        await session.execute(
            delete(SnapshotProduct).where(SnapshotProduct.id.in_(list(existing.values())))
        )
    if updates:
        await session.execute(update(SnapshotProduct), updates)
    if inserts:
        await session.execute(insert(SnapshotProduct), inserts)


async def consumption_history(
    session: AsyncSession, customer_id: int
) -> dict[str, tuple[list[list[int]] | None, list[list[int | None]] | None]]:
    """Per product code: the stock counts and consumption reports kept from earlier syncs."""
    rows = await session.execute(
        select(
            SnapshotProduct.code, SnapshotProduct.stock_counts, SnapshotProduct.consumption
        ).where(SnapshotProduct.customer_id == customer_id)
    )
    return {code: (counts, reports) for code, counts, reports in rows}


async def product_ids(session: AsyncSession, customer_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(SnapshotProduct.code, SnapshotProduct.id).where(
            SnapshotProduct.customer_id == customer_id
        )
    )
    return {code: product_id for code, product_id in rows}


async def products_by_code(
    session: AsyncSession, customer_id: int, codes: Sequence[str]
) -> list[SnapshotProduct]:
    return list(
        await session.scalars(
            select(SnapshotProduct).where(
                SnapshotProduct.customer_id == customer_id, SnapshotProduct.code.in_(list(codes))
            )
        )
    )


async def risks_by_code(session: AsyncSession, customer_id: int) -> dict[str, str]:
    rows = await session.execute(
        select(SnapshotProduct.code, SnapshotProduct.risk).where(
            SnapshotProduct.customer_id == customer_id, SnapshotProduct.risk.is_not(None)
        )
    )
    return {code: risk for code, risk in rows if risk is not None}


async def product_names(
    session: AsyncSession, customer_id: int, codes: Sequence[str]
) -> dict[str, str]:
    rows = await session.execute(
        select(SnapshotProduct.code, SnapshotProduct.name).where(
            SnapshotProduct.customer_id == customer_id, SnapshotProduct.code.in_(list(codes))
        )
    )
    return {code: name for code, name in rows}


async def catalogue_names(session: AsyncSession, customer_id: int) -> list[tuple[str, str]]:
    """Every product of the customer as (code, name), by code."""
    rows = await session.execute(
        select(SnapshotProduct.code, SnapshotProduct.name)
        .where(SnapshotProduct.customer_id == customer_id)
        .order_by(SnapshotProduct.code)
    )
    return [(code, name) for code, name in rows]


async def price_lists(
    session: AsyncSession, customer_id: int, codes: Sequence[str]
) -> dict[str, list[list[Any]] | None]:
    """The stored price list rows of these products (`SnapshotProduct.prices`)."""
    rows = await session.execute(
        select(SnapshotProduct.code, SnapshotProduct.prices).where(
            SnapshotProduct.customer_id == customer_id, SnapshotProduct.code.in_(list(codes))
        )
    )
    return {code: kept for code, kept in rows}


async def products_for_planning(session: AsyncSession, customer_id: int) -> list[SnapshotProduct]:
    """Every product of the snapshot with what the planner reads of it (its master data and
    histories; not the last plan's columns, whose JSON would be decoded for nothing), in
    code order."""
    return list(
        await session.scalars(
            select(SnapshotProduct)
            .where(SnapshotProduct.customer_id == customer_id)
            .options(load_only(*_PLANNER_READS, raiseload=True))
            .order_by(SnapshotProduct.id)
        )
    )


_PLANNER_READS = (
    SnapshotProduct.code,
    SnapshotProduct.name,
    SnapshotProduct.pack_size,
    SnapshotProduct.moq,
    SnapshotProduct.product_status,
    SnapshotProduct.carton_weight_kg,
    SnapshotProduct.carton_volume_m3,
    SnapshotProduct.stock_on_hand,
    SnapshotProduct.shipments,
    SnapshotProduct.stock_counts,
    SnapshotProduct.consumption,
    SnapshotProduct.prices,
)


async def apply_plans(session: AsyncSession, plans: Sequence[dict[str, Any]]) -> None:
    """Write plan columns by product id (`{"id": ..., "plan_status": ..., ...}`), then the
    product summary of every customer they belong to."""
    if not plans:
        return
    await session.execute(update(SnapshotProduct), list(plans))
    customer_ids = await session.scalars(
        select(SnapshotProduct.customer_id)
        .where(SnapshotProduct.id.in_([plan["id"] for plan in plans]))
        .distinct()
    )
    for customer_id in list(customer_ids):
        await refresh_product_health(session, customer_id)


class ProductSort(StrEnum):
    CODE = "code"
    NAME = "name"
    STOCK = "stock"
    FORECAST = "forecast"
    COVER = "cover"
    RUN_OUT = "run_out"
    STATUS = "status"
    ORDERED = "ordered"
    RISK = "risk"


_SORT_COLUMNS: dict[ProductSort, Any] = {
    ProductSort.CODE: SnapshotProduct.code,
    ProductSort.NAME: SnapshotProduct.name,
    ProductSort.STOCK: SnapshotProduct.stock_on_hand,
    ProductSort.FORECAST: SnapshotProduct.weekly_forecast,
    ProductSort.COVER: SnapshotProduct.weeks_of_cover,
    ProductSort.RUN_OUT: SnapshotProduct.run_out_date,
    ProductSort.STATUS: SnapshotProduct.plan_status,
    ProductSort.RISK: SnapshotProduct.risk,
    ProductSort.ORDERED: SnapshotProduct.ordered_quantity,
}
_TEXT_SORTS = {ProductSort.CODE, ProductSort.NAME, ProductSort.STATUS, ProductSort.RISK}

# What the products route returns: every column but the shipment history and search text.
PRODUCT_LIST_COLUMNS: tuple[ColumnElement[Any], ...] = tuple(
    column
    for column in SnapshotProduct.__table__.c
    if column.key
    not in {"shipments", "stock_counts", "consumption", "prices", "search_text", "customer_id"}
)


async def list_products(
    session: AsyncSession,
    customer_id: int,
    page: PageRequest,
    *,
    search: str | None = None,
    statuses: Sequence[str] = (),
    risks: Sequence[str] = (),
    sort: ProductSort = ProductSort.RUN_OUT,
    descending: bool = False,
) -> Page[dict[str, Any]]:
    """Search code and name (case-insensitive substring, `%`/`_`/`\\` taken literally),
    filter by plan status, sort (NULLs last either way, ties by code) and paginate.

    Rows are plain dicts of `PRODUCT_LIST_COLUMNS` (no ORM objects: the route only
    serialises them). `NULLS LAST` rather than a CASE key lets PostgreSQL read the default
    run-out order from its (customer_id, run_out_date) index instead of sorting every row.
    """
    params: dict[str, Any] = {"customer_id": customer_id}
    if search:
        params["pattern"] = like_pattern(search)
    if statuses:
        params["statuses"] = list(statuses)
    if risks:
        params["risks"] = list(risks)
    dialect = session.get_bind().dialect.name
    stmt = _product_list(
        dialect, sort, descending, search=bool(search), statuses=bool(statuses), risks=bool(risks)
    )
    return await paginate_rows(session, stmt, page, params)


@functools.cache
def _product_list(
    dialect: str,
    sort: ProductSort,
    descending: bool,
    *,
    search: bool,
    statuses: bool,
    risks: bool,
) -> Select[Any]:
    """One statement per shape of the query (at most 288), its values bound at execution
    (store.pagination.paginate_rows)."""
    stmt = select(*PRODUCT_LIST_COLUMNS).where(
        SnapshotProduct.customer_id == bindparam("customer_id", type_=Integer)
    )
    if search:
        stmt = stmt.where(SnapshotProduct.search_text.like(bindparam("pattern"), escape="\\"))
    if statuses:
        stmt = stmt.where(SnapshotProduct.plan_status.in_(bindparam("statuses", expanding=True)))
    if risks:
        stmt = stmt.where(SnapshotProduct.risk.in_(bindparam("risks", expanding=True)))
    column = _SORT_COLUMNS[sort]
    key = collated_byte_order(column, dialect) if sort in _TEXT_SORTS else column
    tie = collated_byte_order(SnapshotProduct.code, dialect)
    return stmt.order_by((key.desc() if descending else key.asc()).nulls_last(), tie)


async def get_product(session: AsyncSession, customer_id: int, code: str) -> SnapshotProduct | None:
    """One product of the customer's snapshot, with its shipment history loaded."""
    stmt = (
        select(SnapshotProduct)
        .where(SnapshotProduct.customer_id == customer_id, SnapshotProduct.code == code)
        .options(undefer(SnapshotProduct.shipments))
    )
    return (await session.scalars(stmt)).first()


@dataclass(frozen=True)
class NextRunOut:
    code: str
    name: str
    run_out_date: date
    weeks_of_cover: float | None


@dataclass(frozen=True)
class ProductHealth:
    by_status: dict[str, int]
    urgent: int
    next_run_out: NextRunOut | None
    by_risk: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        nxt = self.next_run_out
        return {
            "by_status": self.by_status,
            "by_risk": self.by_risk,
            "urgent": self.urgent,
            "next_run_out": None
            if nxt is None
            else {
                "code": nxt.code,
                "name": nxt.name,
                "run_out_date": nxt.run_out_date.isoformat(),
                "weeks_of_cover": nxt.weeks_of_cover,
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProductHealth:
        nxt = data.get("next_run_out")
        return cls(
            by_status={str(k): int(v) for k, v in data["by_status"].items()},
            by_risk={str(k): int(v) for k, v in data.get("by_risk", {}).items()},
            urgent=int(data["urgent"]),
            next_run_out=None
            if nxt is None
            else NextRunOut(
                code=nxt["code"],
                name=nxt["name"],
                run_out_date=date.fromisoformat(nxt["run_out_date"]),
                weeks_of_cover=nxt["weeks_of_cover"],
            ),
        )


EMPTY_HEALTH = ProductHealth({}, 0, None)


async def product_health(session: AsyncSession, customer_id: int) -> ProductHealth:
    """The customer's products by status, how many are urgent, and the next to run out: the
    stored summary when there is one, else counted live."""
    stored = await session.scalar(
        select(Snapshot.product_health).where(Snapshot.customer_id == customer_id)
    )
    if stored is not None:
        return ProductHealth.from_json(stored)
    return await _live_health_of(session, customer_id)


async def refresh_product_health(session: AsyncSession, customer_id: int) -> None:
    """Rewrite the stored summary from the products (after any write to them)."""
    health = await _live_health(session, customer_id)
    await session.execute(
        update(Snapshot).where(Snapshot.customer_id == customer_id).values(product_health=health)
    )


async def _live_health(session: AsyncSession, customer_id: int) -> dict[str, Any]:
    return (await _live_health_of(session, customer_id)).as_json()


async def _live_health_of(session: AsyncSession, customer_id: int) -> ProductHealth:
    mine = SnapshotProduct.customer_id == customer_id
    rows = await session.execute(
        select(
            SnapshotProduct.plan_status,
            func.count(),
            func.sum(case((SnapshotProduct.urgent.is_(True), 1), else_=0)),
        )
        .where(mine)
        .group_by(SnapshotProduct.plan_status)
    )
    by_status: dict[str, int] = {}
    urgent = 0
    for status, count, urgent_count in rows:
        by_status[status] = count
        urgent += int(urgent_count or 0)
    row = (
        await session.execute(
            select(
                SnapshotProduct.code,
                SnapshotProduct.name,
                SnapshotProduct.run_out_date,
                SnapshotProduct.weeks_of_cover,
            )
            .where(mine, SnapshotProduct.run_out_date.is_not(None))
            .order_by(SnapshotProduct.run_out_date, byte_order(SnapshotProduct.code, session))
            .limit(1)
        )
    ).first()
    next_run_out = (
        None if row is None or row[2] is None else NextRunOut(row[0], row[1], row[2], row[3])
    )
    risks = await session.execute(
        select(SnapshotProduct.risk, func.count())
        .where(mine, SnapshotProduct.risk.is_not(None))
        .group_by(SnapshotProduct.risk)
    )
    by_risk = {str(risk): int(count) for risk, count in risks}
    return ProductHealth(by_status, urgent, next_run_out, by_risk)
