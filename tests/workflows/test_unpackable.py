"""Settings that make planning impossible (a product's pack no longer fits a container, say
after the ERP changed its weights) fail the cycle at once and visibly: no retries, the
reason in its record, ops told."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.cycle_control import cycle_handle
from store.models import Cycle
from tests.workflows.conftest import CycleStack

pytestmark = pytest.mark.slow


async def test_an_unpackable_plan_fails_once_and_ops_are_told(cycle_stack: CycleStack) -> None:
    customer_id, _ = await cycle_stack.new_customer(container_max_weight_kg=0.001)
    await cycle_stack.start(customer_id)
    told = await cycle_stack.wait_notified(f"Reorder cycle failed for customer {customer_id}")
    assert "does not fit" in told.body or "unpackable" in told.body.lower(), told.body
    history = await cycle_handle(cycle_stack.client, customer_id).fetch_history()
    recommend_attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    failed = [
        e.activity_task_failed_event_attributes.failure
        for e in history.events
        if e.HasField("activity_task_failed_event_attributes")
    ]
    assert len(failed) == 1 and failed[0].application_failure_info.non_retryable
    assert max(recommend_attempts) == 1  # not retried
    async with cycle_stack.sessions() as session:
        row = await session.scalar(select(Cycle).where(Cycle.customer_id == customer_id))
    assert row is not None and row.status == "failed" and row.detail
