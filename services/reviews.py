"""A customer's review on its cadence: what its Temporal Schedule (and ops "start now") runs.

Cadences of several weeks fire weekly and skip the weeks in between (`cadence_week`); each
review starts a new cycle, or reviews the one still open (`cycle_control.start_review`), and
is audited with what it did.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from services.cycle_control import cycle_policy, start_review
from store import audit
from store import customer_settings as settings_repo
from store.db import unit_of_work
from store.models import Customer
from workflows.contract.schedule import ScheduledStartResult

# Cadences of several weeks count weeks from this Monday, so "every 2 weeks" is stable.
CADENCE_EPOCH = date(2024, 1, 1)


def cadence_week(day: date, cadence_weeks: int) -> bool:
    """Whether `day` falls in a week the customer's cadence starts a cycle in."""
    return ((day - CADENCE_EPOCH).days // 7) % max(cadence_weeks, 1) == 0


async def scheduled_review(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    *,
    customer_id: int,
    scheduled_at: datetime,
    task_queue: str,
) -> ScheduledStartResult:
    """The review a customer's Schedule fires, with the policy its settings give now."""
    async with unit_of_work(sessions) as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            return ScheduledStartResult(
                customer_id=customer_id, started=False, skipped="no such customer"
            )
        row = await settings_repo.get_or_create(session, customer.id)
        name, timezone, erp_code = customer.name, customer.timezone, customer.erp_code
        enabled, cadence = row.cycles_enabled, row.cadence_weeks
        policy = cycle_policy(row)
    if not enabled:
        return ScheduledStartResult(
            customer_id=customer_id, started=False, skipped="cycles disabled"
        )
    local_day = scheduled_at.astimezone(ZoneInfo(timezone)).date()
    if not cadence_week(local_day, cadence):
        return ScheduledStartResult(
            customer_id=customer_id,
            started=False,
            skipped=f"not a cycle week (every {cadence} weeks)",
        )
    review = await start_review(
        client,
        customer_id=customer_id,
        customer_name=name,
        task_queue=task_queue,
        policy=policy,
        started_by="schedule",
        erp_customer=erp_code,
    )
    async with unit_of_work(sessions) as session:
        await audit.append(
            session,
            actor="schedule",
            action=f"review.{review.action}",
            customer_id=customer_id,
            target_type="cycle",
            target_id=review.workflow_id,
            details={"run_id": review.run_id, "reason": review.reason, "version": review.version},
        )
    return ScheduledStartResult(
        customer_id=customer_id,
        started=review.action == "started",
        workflow_id=review.workflow_id,
        run_id=review.run_id,
        action=review.action,
        skipped=review.reason if review.action == "skipped" else None,
    )
