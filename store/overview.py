"""The ops overview: every customer with its last sync and latest cycle, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.cycles import latest_cycle_ids
from store.models import Customer, Cycle, RecommendationRecord, RecommendationStatus, Snapshot
from store.pagination import Page, PageRequest
from store.sql import byte_order


@dataclass(frozen=True)
class CustomerOverview:
    customer: Customer
    synced_at: datetime | None
    current_version: int | None
    cycle: Cycle | None


async def customer_overview(
    session: AsyncSession,
    page: PageRequest,
    *,
    only_customer_id: int | None = None,
) -> Page[CustomerOverview]:
    current = (
        select(RecommendationRecord.customer_id, RecommendationRecord.version)
        .where(RecommendationRecord.status == RecommendationStatus.CURRENT.value)
        .subquery()
    )
    stmt = (
        select(Customer, Snapshot.synced_at, current.c.version, Cycle)
        .outerjoin(Snapshot, Snapshot.customer_id == Customer.id)
        .outerjoin(current, current.c.customer_id == Customer.id)
        .outerjoin(Cycle, and_(Cycle.customer_id == Customer.id, Cycle.id.in_(latest_cycle_ids())))
    )
    if only_customer_id is not None:
        stmt = stmt.where(Customer.id == only_customer_id)
    rows = await session.execute(
        stmt.order_by(byte_order(Customer.erp_code, session))
        .limit(page.page_size)
        .offset(page.offset)
    )
    items = [CustomerOverview(c, synced, version, cycle) for c, synced, version, cycle in rows]
    if only_customer_id is not None:
        return Page(items, len(items), page.page, page.page_size)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return Page(items, total, page.page, page.page_size)
