"""Reviews on cadence: what the customer's Schedule (or ops "start now") does with the cycle it
finds. Waiting: refresh it (new version, the expiry restarts, the buyer is told). A failed
submission: plan nothing, remind ops. Closed: a new cycle, whose plan counts what the earlier
one ordered as pipeline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.cycle_control import cycle_handle, send_update, start_review
from services.reviews import scheduled_review
from store.models import AuditEntry, RecommendationRecord, SnapshotProduct
from tests.workflows.conftest import FAST_POLICY, CycleStack
from workflows.contract import names
from workflows.contract.cycle import ApproveRequest, CycleStatus

HOURLY = FAST_POLICY.model_copy(
    update={"remind_every": timedelta(hours=1), "expire_after": timedelta(hours=2)}
)


async def _review(stack: CycleStack, customer_id: int) -> tuple[str, int | None]:
    review = await start_review(
        stack.client,
        customer_id=customer_id,
        customer_name=f"customer {customer_id}",
        task_queue=stack.task_queue,
        policy=HOURLY,
    )
    return review.action, review.version


async def test_a_review_refreshes_a_waiting_recommendation_and_restarts_its_expiry(
    cycle_stack: CycleStack,
) -> None:
    customer_id, _ = await cycle_stack.new_customer()
    started = await cycle_stack.start(customer_id, HOURLY)
    first = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert first.recommendation is not None and first.expires_at is not None
    await cycle_stack.advance_erp(days=7)  # a week later the ERP's data differs

    action, version = await _review(cycle_stack, customer_id)
    assert action == "refreshed"
    assert version is not None and version > first.recommendation.version
    state = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None and state.recommendation.version == version
    assert state.expires_at is not None and state.expires_at > first.expires_at
    assert state.expires_at - (state.waiting_since or first.expires_at) == HOURLY.expire_after
    updated = await cycle_stack.wait_notified("Updated:")
    assert f"v{version}" in updated.body and "review on cadence" in updated.body
    # Still the same cycle: one open per customer.
    assert (await cycle_handle(cycle_stack.client, customer_id).describe()).run_id == (
        started.run_id
    )
    # The earlier version can no longer be approved; the new one can.
    result = await send_update(
        cycle_stack.client,
        customer_id,
        names.APPROVE,
        ApproveRequest(version=version, actor="buyer"),
    )
    assert all(o.erp_order_number for o in result.orders)


async def test_a_review_of_a_failed_submission_plans_nothing_and_reminds_ops(
    cycle_stack: CycleStack,
) -> None:
    customer_id, _ = await cycle_stack.new_customer()
    await cycle_stack.start(customer_id)
    waiting = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    with cycle_stack.erp_sim.faults(endpoints=["submit"], reject_code="E_CREDIT_HOLD"):
        await send_update(
            cycle_stack.client,
            customer_id,
            names.APPROVE,
            ApproveRequest(version=waiting.recommendation.version, actor="buyer"),
        )
        await cycle_stack.wait_for(customer_id, CycleStatus.SUBMISSION_FAILED)
    action, version = await _review(cycle_stack, customer_id)
    assert (action, version) == ("skipped", waiting.recommendation.version)
    reminder = await cycle_stack.wait_notified("Review skipped")
    assert reminder.to == [cycle_stack.settings.ops_email]
    async with cycle_stack.sessions() as session:
        versions = list(
            await session.scalars(
                select(RecommendationRecord.version).where(
                    RecommendationRecord.customer_id == customer_id
                )
            )
        )
    assert versions == [waiting.recommendation.version]  # nothing new was planned
    state = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMISSION_FAILED)
    assert state.status is CycleStatus.SUBMISSION_FAILED


async def _pipeline(stack: CycleStack, customer_id: int) -> dict[str, int]:
    """Cartons on the way per product, as the latest plan counted them."""
    async with stack.sessions() as session:
        rows = await session.execute(
            select(SnapshotProduct.code, SnapshotProduct.pipeline).where(
                SnapshotProduct.customer_id == customer_id
            )
        )
        return {code: pipeline for code, pipeline in rows}


async def test_a_review_after_the_cycle_closed_starts_one_that_counts_the_pipeline(
    cycle_stack: CycleStack,
) -> None:
    customer_id, _ = await cycle_stack.new_customer(cadence_weeks=1)
    first_run = await cycle_stack.start(customer_id)
    waiting = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    before = await _pipeline(cycle_stack, customer_id)
    await send_update(
        cycle_stack.client,
        customer_id,
        names.APPROVE,
        ApproveRequest(version=waiting.recommendation.version, actor="buyer"),
    )
    await cycle_handle(cycle_stack.client, customer_id).result()
    ordered: dict[str, int] = {}
    for container in waiting.recommendation.containers:
        for line in container.lines:
            ordered[line.product_code] = ordered.get(line.product_code, 0) + line.quantity

    result = await scheduled_review(
        cycle_stack.client,
        cycle_stack.sessions,
        customer_id=customer_id,
        scheduled_at=datetime(2026, 1, 5, 6, tzinfo=UTC),  # a Monday of the cadence
        task_queue=cycle_stack.task_queue,
    )
    assert result.started and result.action == "started"
    assert result.run_id != first_run.run_id
    second = await cycle_stack.wait_for(
        customer_id, CycleStatus.AWAITING_APPROVAL, CycleStatus.NOTHING_TO_ORDER
    )
    assert second.recommendation is not None
    assert second.recommendation.version > waiting.recommendation.version
    after = await _pipeline(cycle_stack, customer_id)
    # What the first cycle ordered is on the water for the second plan, carton for carton.
    assert {
        code: after[code] - before.get(code, 0)
        for code in after
        if after[code] != before.get(code, 0)
    } == ordered
    async with cycle_stack.sessions() as session:
        audited = list(
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.customer_id == customer_id, AuditEntry.action.like("review.%")
                )
            )
        )
    assert audited == ["review.started"]
