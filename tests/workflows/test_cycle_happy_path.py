"""A whole cycle on the dev server: sync, recommend, approve, submit once; then each order's
shipment follows it to delivery."""

from __future__ import annotations

from sqlalchemy import select

from services.cycle_control import cycle_handle, send_update
from store.models import AuditEntry, Cycle, Order, OrderEvent
from tests.workflows.conftest import CycleStack
from workflows.contract import names
from workflows.contract.cycle import ApproveRequest, ContainerView, CycleStatus, RejectRequest
from workflows.contract.shipment import ShipmentState, ShipmentStatus


async def test_approve_submits_each_container_once_and_shipments_follow_to_delivery(
    cycle_stack: CycleStack,
) -> None:
    customer_id, erp_code = await cycle_stack.new_customer()
    await cycle_stack.start(customer_id)
    waiting = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    rec = waiting.recommendation
    assert rec is not None and rec.containers, waiting
    ready = await cycle_stack.wait_notified("to approve")
    assert f"v{rec.version}" in ready.body

    result = await send_update(
        cycle_stack.client,
        customer_id,
        names.APPROVE,
        ApproveRequest(version=rec.version, actor="buyer"),
    )
    assert [o.container_index for o in result.orders] == [c.index for c in rec.containers]
    # The approval offered each container to the ERP before answering, and the ERP took it.
    assert {o.status for o in result.orders} == {"submitted"}, result.orders

    # The cycle ends once the ERP holds every container; shipments follow the orders.
    done = await cycle_handle(cycle_stack.client, customer_id).result()
    assert done.status is CycleStatus.SUBMITTED
    numbers = [o.erp_order_number for o in done.orders]
    assert all(numbers) and numbers == [o.erp_order_number for o in result.orders]
    assert {o.shipment_workflow_id for o in done.orders} == {
        names.shipment_workflow_id(customer_id, n or "") for n in numbers
    }
    submissions = await cycle_stack.submissions(erp_code)
    assert len(submissions) == len(rec.containers)
    assert sorted(s["order_number"] for s in submissions) == sorted(n or "" for n in numbers)
    assert {s["idempotency_key"] for s in submissions} == {o.idempotency_key for o in result.orders}
    placed = await cycle_stack.wait_notified("Order placed")
    assert all(n and n in placed.body for n in numbers)
    shipments = await cycle_stack.wait_shipments(done, ShipmentStatus.AWAITING_SHIPMENT)
    assert {s.erp_order_number for s in shipments} == set(numbers)
    assert all(s.promised_eta is not None for s in shipments)

    # Every ERP call ran on the ERP task queue (its workers carry the rate limit); the rest on
    # the workflows' queue.
    queues: dict[str, set[str]] = {}
    async for event in cycle_handle(cycle_stack.client, customer_id).fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            queues.setdefault(scheduled.activity_type.name, set()).add(scheduled.task_queue.name)
    erp_queue = names.erp_task_queue(cycle_stack.task_queue)
    assert queues["sync_customer"] == {erp_queue}, queues
    assert queues["recommend"] == {cycle_stack.task_queue}, queues

    await cycle_stack.advance_erp(days=7 * 12)
    delivered = await cycle_stack.wait_shipments(done, ShipmentStatus.DELIVERED)
    assert all(s.delivered_on is not None and not s.late for s in delivered), delivered
    for order in done.orders:
        assert order.shipment_workflow_id is not None
        handle = cycle_stack.client.get_workflow_handle(
            order.shipment_workflow_id, result_type=ShipmentState
        )
        assert (await handle.result()).status is ShipmentStatus.DELIVERED

    async with cycle_stack.sessions() as session:
        cycle = await session.scalar(select(Cycle).where(Cycle.customer_id == customer_id))
        orders = list(
            await session.scalars(
                select(Order).where(Order.customer_id == customer_id, Order.source == "restock")
            )
        )
        events = list(
            await session.scalars(
                select(OrderEvent.kind).where(OrderEvent.order_id.in_([o.id for o in orders]))
            )
        )
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.customer_id == customer_id)
            )
        )
    assert cycle is not None and cycle.status == "submitted" and cycle.finished_at is not None
    assert sorted(o.erp_order_number or "" for o in orders) == sorted(n or "" for n in numbers)
    assert {o.status for o in orders} == {"delivered"}
    assert {o.shipment_status for o in orders} == {"delivered"}
    assert sorted(events) == sorted(["shipped", "delivered"] * len(orders))
    assert "recommendation.approved" in actions and "order.submitted" in actions
    assert "order.delivered" in actions


async def test_reject_ends_the_cycle_without_an_order(cycle_stack: CycleStack) -> None:
    customer_id, erp_code = await cycle_stack.new_customer()
    await cycle_stack.start(customer_id)
    waiting = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    state = await send_update(
        cycle_stack.client,
        customer_id,
        names.REJECT,
        RejectRequest(
            version=waiting.recommendation.version, reason="stock count pending", actor="buyer"
        ),
    )
    assert state.status is CycleStatus.REJECTED
    assert state.decision is not None and state.decision.reason == "stock count pending"
    assert await cycle_stack.submissions(erp_code) == []


async def _ordered(stack: CycleStack, customer_id: int) -> dict[str, int]:
    """Cartons per product over the customer's Restock orders."""
    async with stack.sessions() as session:
        orders = await session.scalars(
            select(Order).where(Order.customer_id == customer_id, Order.source == "restock")
        )
        totals: dict[str, int] = {}
        for order in orders:
            for line in order.lines:
                code = line["product_code"]
                totals[code] = totals.get(code, 0) + int(line["quantity"])
    return totals


CAPACITY = 20_000  # `CycleStack.new_customer`'s containers


def _one_pack_more_or_less(container: ContainerView) -> dict[str, int]:
    """An edit that keeps the container one container: a pack more of a line where it has
    room (how full the last container is depends on the day's generated data), else a pack
    less of a line that stays at or above its minimum."""
    totals: dict[str, int] = {}
    for line in container.lines:
        totals[line.product_code] = totals.get(line.product_code, 0) + line.quantity
    room = CAPACITY - container.cartons
    for line in container.lines:
        if line.pack_size <= room:
            return {line.product_code: totals[line.product_code] + line.pack_size}
    for line in container.lines:
        less = totals[line.product_code] - line.pack_size
        if less >= max(line.moq, line.pack_size):
            return {line.product_code: less}
    raise AssertionError(f"no line of container {container.index} can take a one-pack edit")


async def test_approving_chosen_containers_and_edits_orders_exactly_that(
    cycle_stack: CycleStack,
) -> None:
    for edit in (False, True):
        customer_id, erp_code = await cycle_stack.new_customer()
        await cycle_stack.start(customer_id)
        waiting = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
        rec = waiting.recommendation
        assert rec is not None and rec.containers
        chosen = rec.containers[-1]
        expected: dict[str, int] = {}
        for line in chosen.lines:
            expected[line.product_code] = expected.get(line.product_code, 0) + line.quantity
        edits = {}
        if edit:
            edits = _one_pack_more_or_less(chosen)
            expected.update(edits)
        result = await send_update(
            cycle_stack.client,
            customer_id,
            names.APPROVE,
            ApproveRequest(
                version=rec.version, containers=[chosen.index], edits=edits, actor="buyer"
            ),
        )
        await cycle_stack.wait_for(customer_id, CycleStatus.SUBMITTED)
        assert await _ordered(cycle_stack, customer_id) == expected, f"edit={edit}"
        assert len(await cycle_stack.submissions(erp_code)) == len(result.orders)
        if not edit:
            assert [o.container_index for o in result.orders] == [chosen.index]
