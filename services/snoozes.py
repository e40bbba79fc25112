"""Snoozing a product: the buyer puts it off for N reviews (the customer's cadence), so the
plans made before then do not order it; it comes back at the first review after."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from store import audit, snapshots
from store import customer_settings as settings_repo
from store import snoozes as snoozes_repo


class SnoozeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reviews": 2}]})

    reviews: int = Field(ge=1, le=26, description="How many reviews to leave it out of")


class SnoozeOut(BaseModel):
    product_code: str
    reviews: int
    until: date = Field(description="Plans made on or after this day order it again")
    snoozed_by: str


async def snooze(
    session: AsyncSession,
    customer_id: int,
    code: str,
    reviews: int,
    actor: str,
    today: date | None = None,
) -> SnoozeOut:
    if await snapshots.get_product(session, customer_id, code) is None:
        raise NotFound(f"product {code!r} not found", field="product_code")
    settings = await settings_repo.get_or_create(session, customer_id)
    start = today or await _planning_day(session, customer_id)
    until = start + timedelta(weeks=settings.cadence_weeks * reviews)
    stored = await snoozes_repo.put(
        session, customer_id, code, until=until, reviews=reviews, actor=actor
    )
    await audit.append(
        session,
        actor=actor,
        action="product.snoozed",
        customer_id=customer_id,
        target_type="product",
        target_id=code,
        details={"reviews": reviews, "until": until.isoformat()},
    )
    return SnoozeOut(
        product_code=code, reviews=reviews, until=stored.until, snoozed_by=stored.snoozed_by
    )


async def wake(session: AsyncSession, customer_id: int, code: str, actor: str) -> None:
    """End a product's snooze now; NotFound when it has none (an ended one is removed)."""
    active = await snooze_of(session, customer_id, code)
    await snoozes_repo.clear(session, customer_id, code)
    if active is None:
        raise NotFound(f"product {code!r} is not snoozed", field="product_code")
    await audit.append(
        session,
        actor=actor,
        action="product.woken",
        customer_id=customer_id,
        target_type="product",
        target_id=code,
    )


async def snooze_of(
    session: AsyncSession, customer_id: int, code: str, on: date | None = None
) -> SnoozeOut | None:
    """The product's snooze if it has not ended by `on` (default: the latest sync's day)."""
    found = await snoozes_repo.get(session, customer_id, code)
    if found is None or found.until <= (on or await _planning_day(session, customer_id)):
        return None
    return SnoozeOut(
        product_code=code, reviews=found.reviews, until=found.until, snoozed_by=found.snoozed_by
    )


async def _planning_day(session: AsyncSession, customer_id: int) -> date:
    """The day plans are made as of: the latest sync's (the planner compares snoozes with
    it), else today."""
    snapshot = await snapshots.get_snapshot(session, customer_id)
    return snapshot.as_of if snapshot is not None else datetime.now(UTC).date()
