"""Ops can find cycles in Temporal: search attributes CustomerId and CycleStatus, and a memo
with the customer's name (what `temporal workflow list --query 'CustomerId="…"'` uses)."""

from __future__ import annotations

import asyncio

from activities.cycle_models import ApproveRequest, CycleStatus
from services.cycle_control import cycle_handle, send_update
from tests.workflows.conftest import CycleStack
from workflows.reorder_cycle import ReorderCycle


async def _find(stack: CycleStack, query: str, run_id: str, attempts: int = 200) -> bool:
    """Visibility is eventually consistent: poll until the run is (or stays not) listed."""
    for _ in range(attempts):
        runs = [w.run_id async for w in stack.client.list_workflows(query)]
        if run_id in runs:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_search_attributes_track_the_cycle_and_the_memo_names_the_customer(
    cycle_stack: CycleStack,
) -> None:
    customer_id, _ = await cycle_stack.new_customer()
    started = await cycle_stack.start(customer_id)
    waiting = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    mine = f'CustomerId="{customer_id}" AND TaskQueue="{cycle_stack.task_queue}"'

    assert await _find(cycle_stack, mine, started.run_id)
    assert await _find(cycle_stack, f'{mine} AND CycleStatus="awaiting_approval"', started.run_id)
    described = await cycle_handle(cycle_stack.client, customer_id).describe()
    assert await described.memo_value("customer_name") == f"customer {customer_id}"
    assert await described.memo_value("customer_id") == customer_id
    other = f'CustomerId="{customer_id + 100_000}" AND TaskQueue="{cycle_stack.task_queue}"'
    assert [w async for w in cycle_stack.client.list_workflows(other)] == []

    await send_update(
        cycle_stack.client,
        customer_id,
        ReorderCycle.approve,
        ApproveRequest(version=waiting.recommendation.version, actor="buyer"),
    )
    await cycle_stack.wait_for(customer_id, CycleStatus.TRACKING)
    assert await _find(cycle_stack, f'{mine} AND CycleStatus="tracking"', started.run_id)
    assert not await _find(
        cycle_stack, f'{mine} AND CycleStatus="awaiting_approval"', started.run_id, attempts=1
    )
