"""The audit log: append and read, never change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuditEntry
from store.pagination import Page, PageRequest, paginate

ERP_SYNCED, ERP_SYNC_FAILED = "erp.synced", "erp.sync_failed"


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    customer_id: int | None = None,
    user_id: int | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        action=action,
        customer_id=customer_id,
        user_id=user_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def list_entries(
    session: AsyncSession,
    page: PageRequest,
    *,
    customer_id: int | None = None,
    action: str | None = None,
) -> Page[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if customer_id is not None:
        stmt = stmt.where(AuditEntry.customer_id == customer_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return await paginate(session, stmt, page)


async def latest(
    session: AsyncSession, customer_id: int, action: str, target_id: str | int
) -> AuditEntry | None:
    """The newest entry of `action` on one target of a customer (e.g. a version's proposal)."""
    return await session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.customer_id == customer_id,
            AuditEntry.action == action,
            AuditEntry.target_id == str(target_id),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
