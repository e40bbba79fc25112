"""The cycle read model. The workflow's activities write it; the API reads it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.base import utcnow
from store.models import Cycle
from store.pagination import Page, PageRequest, paginate


async def record_cycle(
    session: AsyncSession,
    *,
    workflow_id: str,
    customer_id: int,
    status: str,
    run_id: str | None = None,
    recommendation_version: int | None = None,
    order_id: int | None = None,
    detail: str | None = None,
    finished: bool = False,
    at: datetime | None = None,
) -> Cycle:
    """Create or update the cycle row of one workflow run (idempotent: safe to retry).

    Rows are keyed by run id: a customer's successive cycles share the workflow id.

    Fields passed as None keep their stored value, so each activity only names what it knows.
    """
    now = at or utcnow()
    match = Cycle.run_id == run_id if run_id is not None else Cycle.workflow_id == workflow_id
    cycle = await session.scalar(select(Cycle).where(match).order_by(Cycle.id.desc()).limit(1))
    if cycle is None:
        cycle = Cycle(
            workflow_id=workflow_id, customer_id=customer_id, status=status, started_at=now
        )
        session.add(cycle)
    cycle.status = status
    cycle.updated_at = now
    if run_id is not None:
        cycle.run_id = run_id
    if recommendation_version is not None:
        cycle.recommendation_version = recommendation_version
    if order_id is not None:
        cycle.order_id = order_id
    if detail is not None:
        cycle.detail = detail
    if finished and cycle.finished_at is None:
        cycle.finished_at = now
    await session.flush()
    return cycle


async def get_cycle(session: AsyncSession, customer_id: int, cycle_id: int) -> Cycle | None:
    """A cycle by id, only if it belongs to `customer_id`."""
    return await session.scalar(
        select(Cycle).where(Cycle.id == cycle_id, Cycle.customer_id == customer_id)
    )


async def list_cycles(session: AsyncSession, customer_id: int, page: PageRequest) -> Page[Cycle]:
    stmt = (
        select(Cycle)
        .where(Cycle.customer_id == customer_id)
        .order_by(Cycle.started_at.desc(), Cycle.id.desc())
    )
    return await paginate(session, stmt, page)


def latest_cycle_ids() -> Select[int]:
    """Per customer, the id of its most recently started cycle (as a subquery source)."""
    return select(func.max(Cycle.id)).group_by(Cycle.customer_id)


async def latest_cycles(session: AsyncSession, customer_ids: list[int]) -> dict[int, Cycle]:
    if not customer_ids:
        return {}
    rows = await session.scalars(
        select(Cycle).where(
            Cycle.id.in_(latest_cycle_ids().where(Cycle.customer_id.in_(customer_ids)))
        )
    )
    return {row.customer_id: row for row in rows}


async def list_all_cycles(
    session: AsyncSession,
    page: PageRequest,
    *,
    status: str | None = None,
    customer_id: int | None = None,
) -> Page[Cycle]:
    """Every customer's cycles (ops), newest first, optionally of one status or customer."""
    stmt = select(Cycle).order_by(Cycle.started_at.desc(), Cycle.id.desc())
    if status is not None:
        stmt = stmt.where(Cycle.status == status)
    if customer_id is not None:
        stmt = stmt.where(Cycle.customer_id == customer_id)
    return await paginate(session, stmt, page)


async def get_cycle_by_id(session: AsyncSession, cycle_id: int) -> Cycle | None:
    return await session.get(Cycle, cycle_id)


async def latest_cycle(session: AsyncSession, customer_id: int) -> Cycle | None:
    """The customer's most recently started cycle."""
    return await session.scalar(
        select(Cycle)
        .where(Cycle.customer_id == customer_id)
        .order_by(Cycle.started_at.desc(), Cycle.id.desc())
        .limit(1)
    )


async def cycle_of_run(session: AsyncSession, run_id: str) -> Cycle | None:
    return await session.scalar(select(Cycle).where(Cycle.run_id == run_id))
