"""What a cycle writes about itself and how its recommendation reaches it: the cycle's
read-model row with its audit entry, and the recommendation as the workflow's validators see
it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from planning.models import CreditStatus
from services.profiles import latest_profile
from services.schemas import RecommendationVersion
from store import audit, cycles, recommendations
from store.db import unit_of_work
from store.models import RecommendationStatus
from workflows.contract.cycle import (
    FINAL_STATUSES,
    ContainerLimitsView,
    ContainerView,
    CycleRecord,
    CycleStatus,
    LineView,
    RecommendationView,
)


async def record_cycle(sessions: async_sessionmaker[AsyncSession], record: CycleRecord) -> None:
    async with unit_of_work(sessions) as session:
        await write_cycle_record(session, record)


async def write_cycle_record(session: AsyncSession, record: CycleRecord) -> None:
    """One state change of the cycle: its read-model row and an audit entry (an expiry also
    marks its recommendation expired)."""
    await cycles.record_cycle(
        session,
        workflow_id=record.workflow_id,
        run_id=record.run_id,
        customer_id=record.customer_id,
        status=record.status.value,
        recommendation_version=record.recommendation_version,
        detail=record.detail,
        finished=record.status in FINAL_STATUSES,
    )
    if record.status is CycleStatus.EXPIRED and record.recommendation_version:
        await recommendations.decide(
            session,
            record.customer_id,
            record.recommendation_version,
            RecommendationStatus.EXPIRED,
            decided_by="workflow",
            at=datetime.now(UTC),
        )
    await audit.append(
        session,
        actor=record.actor,
        action=f"cycle.{record.status.value}",
        customer_id=record.customer_id,
        target_type="cycle",
        target_id=record.workflow_id,
        details={"version": record.recommendation_version, "detail": record.detail},
    )


async def with_credit(
    sessions: async_sessionmaker[AsyncSession], customer_id: int, view: RecommendationView
) -> RecommendationView:
    """`view` with the credit position the latest sync found: on hold, and the credit left
    (limit minus open balance; None when the ERP states no limit)."""
    async with sessions() as session:
        profile = await latest_profile(session, customer_id)
    if profile is None:
        return view
    return view.model_copy(
        update={
            "credit_hold": profile.credit_status is CreditStatus.HOLD,
            "available_credit": profile.available_credit,
        }
    )


def recommendation_view(version: RecommendationVersion) -> RecommendationView:
    """The containers and lines the cycle's validators check decisions against."""
    lines = {line.product_code: line for line in version.lines}
    return RecommendationView(
        version=version.version,
        summary=version.summary,
        containers=[
            ContainerView(
                index=c.index,
                cartons=c.cartons,
                fill_pct=c.fill_pct,
                urgent=c.urgent,
                lines=[
                    LineView(
                        product_code=cl.product_code,
                        name=lines[cl.product_code].name,
                        quantity=cl.quantity,
                        pack_size=lines[cl.product_code].pack_size,
                        moq=lines[cl.product_code].moq,
                        urgent=cl.urgent,
                        carton_weight_kg=lines[cl.product_code].carton_weight_kg,
                        carton_volume_m3=lines[cl.product_code].carton_volume_m3,
                        unit_price=cl.unit_price,
                    )
                    for cl in c.lines
                ],
                value=c.value,
                unpriced_lines=c.unpriced_lines,
            )
            for c in version.containers
        ],
        currency=version.totals.currency,
        limits=None
        if version.settings is None
        else ContainerLimitsView(
            cartons=version.settings.container_capacity_cartons,
            weight_kg=version.settings.container_max_weight_kg,
            volume_m3=version.settings.container_max_volume_m3,
        ),
    )
