"""Products a buyer put off for some reviews."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ProductSnooze


async def active(session: AsyncSession, customer_id: int, on: date) -> dict[str, date]:
    """Product code -> the day its snooze ends, for the snoozes not ended by `on`."""
    rows = await session.execute(
        select(ProductSnooze.product_code, ProductSnooze.until).where(
            ProductSnooze.customer_id == customer_id, ProductSnooze.until > on
        )
    )
    return {code: until for code, until in rows.all()}


async def get(session: AsyncSession, customer_id: int, code: str) -> ProductSnooze | None:
    return await session.scalar(
        select(ProductSnooze).where(
            ProductSnooze.customer_id == customer_id, ProductSnooze.product_code == code
        )
    )


async def put(
    session: AsyncSession, customer_id: int, code: str, *, until: date, reviews: int, actor: str
) -> ProductSnooze:
    """Snooze a product (a second snooze replaces the first)."""
    await clear(session, customer_id, code)
    snooze = ProductSnooze(
        customer_id=customer_id, product_code=code, until=until, reviews=reviews, snoozed_by=actor
    )
    session.add(snooze)
    await session.flush()
    return snooze


async def clear(session: AsyncSession, customer_id: int, code: str) -> bool:
    result = await session.execute(
        delete(ProductSnooze).where(
            ProductSnooze.customer_id == customer_id, ProductSnooze.product_code == code
        )
    )
    return bool(getattr(result, "rowcount", 0))
