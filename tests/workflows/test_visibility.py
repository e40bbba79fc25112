"""Ops can find cycles and shipments in Temporal: search attributes CustomerId, CycleStatus,
ShipmentStatus and ErpOrderNumber, and a memo with the customer's name (what
`temporal workflow list --query 'ShipmentStatus="late"'` uses)."""

from __future__ import annotations

import asyncio

from services.cycle_control import cycle_handle, send_update
from tests.workflows.conftest import CycleStack
from workflows.contract import names
from workflows.contract.cycle import ApproveRequest, CycleStatus


async def _find(stack: CycleStack, query: str, run_id: str, attempts: int = 200) -> bool:
    """Visibility is eventually consistent: poll until the run is (or stays not) listed."""
    for _ in range(attempts):
        runs = [w.run_id async for w in stack.client.list_workflows(query)]
        if run_id in runs:
            return True
        await asyncio.sleep(0.05)
    return False


async def _ids(stack: CycleStack, query: str, want: set[str], attempts: int = 200) -> set[str]:
    found: set[str] = set()
    for _ in range(attempts):
        found = {w.id async for w in stack.client.list_workflows(query)}
        if found == want:
            break
        await asyncio.sleep(0.05)
    return found


async def test_search_attributes_track_the_cycle_and_the_memo_names_the_customer(
    cycle_stack: CycleStack,
) -> None:
    customer_id, erp_code = await cycle_stack.new_customer()
    started = await cycle_stack.start(customer_id, erp_customer=erp_code)
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
        names.APPROVE,
        ApproveRequest(version=waiting.recommendation.version, actor="buyer"),
    )
    done = await cycle_handle(cycle_stack.client, customer_id).result()
    assert await _find(cycle_stack, f'{mine} AND CycleStatus="submitted"', started.run_id)
    assert not await _find(
        cycle_stack, f'{mine} AND CycleStatus="awaiting_approval"', started.run_id, attempts=1
    )

    # Each order's shipment is a workflow of its own, found by customer, status and number.
    shipments = {o.shipment_workflow_id or "" for o in done.orders}
    assert len(shipments) == len(done.orders) >= 1
    waiting_ships = f'{mine} AND WorkflowType="Shipment" AND ShipmentStatus="awaiting_shipment"'
    assert await _ids(cycle_stack, waiting_ships, shipments) == shipments
    first = done.orders[0]
    by_number = f'{mine} AND ErpOrderNumber="{first.erp_order_number}"'
    assert await _ids(cycle_stack, by_number, {first.shipment_workflow_id or ""}) == {
        first.shipment_workflow_id
    }
    described = await cycle_stack.client.get_workflow_handle(
        first.shipment_workflow_id or ""
    ).describe()
    assert await described.memo_value("customer_name") == f"customer {customer_id}"

    # Ops search by what they know, the ERP's customer code: the cycle and its shipments.
    by_erp_code = f'ErpCustomer="{erp_code}" AND TaskQueue="{cycle_stack.task_queue}"'
    assert await _ids(cycle_stack, by_erp_code, {done.workflow_id, *shipments}) == {
        done.workflow_id,
        *shipments,
    }
    # The passing state `approving` reached the search attribute too.
    history = await cycle_handle(cycle_stack.client, customer_id).fetch_history()
    upserted = [
        bytes(e.upsert_workflow_search_attributes_event_attributes.search_attributes
              .indexed_fields["CycleStatus"].data).decode()
        for e in history.events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]  # fmt: skip
    assert '"approving"' in upserted, upserted
