"""Products a buyer put off for some reviews."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.base import dialect_insert, utcnow
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
    """Snooze a product; a second snooze replaces the first, also when two land at once."""
    stmt = dialect_insert(session)(ProductSnooze).values(
        customer_id=customer_id,
        product_code=code,
        until=until,
        reviews=reviews,
        snoozed_by=actor,
        created_at=utcnow(),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["customer_id", "product_code"],
            set_={
                "until": stmt.excluded.until,
                "reviews": stmt.excluded.reviews,
                "snoozed_by": stmt.excluded.snoozed_by,
                "created_at": stmt.excluded.created_at,
            },
        )
    )
    stored = await session.scalar(
        select(ProductSnooze)
        .where(ProductSnooze.customer_id == customer_id, ProductSnooze.product_code == code)
        .execution_options(populate_existing=True)
    )
    assert stored is not None  # written just above, in this transaction
    return stored


async def clear(session: AsyncSession, customer_id: int, code: str) -> bool:
    result = await session.execute(
        delete(ProductSnooze).where(
            ProductSnooze.customer_id == customer_id, ProductSnooze.product_code == code
        )
    )
    return bool(getattr(result, "rowcount", 0))
