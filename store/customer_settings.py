"""Per-customer settings: read (created with defaults on first use) and update."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import CustomerSettings


async def get_or_create(
    session: AsyncSession, customer_id: int, **defaults: Any
) -> CustomerSettings:
    """The customer's settings; a row with `defaults` (then column defaults) when there is none."""
    row = await session.get(CustomerSettings, customer_id)
    if row is None:
        row = CustomerSettings(customer_id=customer_id, **defaults)
        session.add(row)
        await session.flush()
        await session.refresh(row)
    return row


async def update(
    session: AsyncSession, customer_id: int, values: dict[str, Any], *, updated_by: str
) -> tuple[CustomerSettings, dict[str, dict[str, Any]]]:
    """Apply `values`; return the row and the changes as `{field: {"from": a, "to": b}}`."""
    row = await get_or_create(session, customer_id)
    changes: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        old = getattr(row, key)
        if old != value:
            changes[key] = {"from": old, "to": value}
            setattr(row, key, value)
    if changes:
        row.updated_by = updated_by
        await session.flush()
        await session.refresh(row)
    return row, changes
