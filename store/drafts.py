"""A recommendation version's draft: the buyer's edited quantities, one row per line."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.base import dialect_insert, utcnow
from store.models import RecommendationDraft

_BATCH = 1_000  # rows per statement: 5 parameters each stays under every driver's limit


async def draft_of(session: AsyncSession, recommendation_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(RecommendationDraft.product_code, RecommendationDraft.quantity)
        .where(RecommendationDraft.recommendation_id == recommendation_id)
        .order_by(RecommendationDraft.product_code)
    )
    return {code: quantity for code, quantity in rows}


async def save(
    session: AsyncSession,
    recommendation_id: int,
    quantities: Mapping[str, int],
    reset: set[str],
    actor: str,
) -> None:
    """Set `quantities` (insert or overwrite, so two tabs saving at once both land) and
    drop the lines in `reset` back to the suggestion."""
    if reset:
        await session.execute(
            delete(RecommendationDraft).where(
                RecommendationDraft.recommendation_id == recommendation_id,
                RecommendationDraft.product_code.in_(sorted(reset)),
            )
        )
    if not quantities:
        return
    insert = dialect_insert(session)
    rows = [
        {
            "recommendation_id": recommendation_id,
            "product_code": code,
            "quantity": quantity,
            "updated_by": actor,
            "updated_at": utcnow(),
        }
        for code, quantity in sorted(quantities.items())
    ]
    for start in range(0, len(rows), _BATCH):
        stmt = insert(RecommendationDraft).values(rows[start : start + _BATCH])
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["recommendation_id", "product_code"],
                set_={
                    "quantity": stmt.excluded.quantity,
                    "updated_by": stmt.excluded.updated_by,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )


async def clear(session: AsyncSession, recommendation_id: int) -> None:
    await session.execute(
        delete(RecommendationDraft).where(
            RecommendationDraft.recommendation_id == recommendation_id
        )
    )
