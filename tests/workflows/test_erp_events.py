"""ERP pushes end to end: the ERP simulator POSTs signed order events to the API (uvicorn on
loopback), which hands them to each order's Shipment workflow.

Shipments here poll the ERP only once an hour, so every change a test sees within seconds
came by push. Bad and stale signatures are refused (401) and change nothing; the same push
delivered twice is one event.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.notifier import LogNotifier, Message
from core.settings import Settings
from erp.simulator.server import ServerThread
from erp.webhooks import signed_headers
from services.cycle_control import cycle_handle, send_update
from store.models import AuditEntry, ErpEventReceipt, Order, OrderEvent
from tests.plugins.erp_sim import SIM_WEBHOOK_SECRET, start_erp_sim
from tests.plugins.ports import free_port
from tests.workflows.conftest import FAST_POLICY, CycleStack, terminate_open_workflows
from webapp import create_app
from worker import running_worker
from workflows.contract import names
from workflows.contract.cycle import ApproveRequest, CycleState, CycleStatus
from workflows.contract.shipment import ShipmentState, ShipmentStatus

# Shipments that ask the ERP only hourly: within a test, news can only come by push.
PUSH_ONLY = FAST_POLICY.model_copy(
    update={"track_poll_initial": timedelta(hours=1), "track_poll_max": timedelta(hours=6)}
)
Figure = Callable[..., dict[str, Any]]


@dataclass
class PushStack:
    stack: CycleStack
    api_url: str

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.api_url) as http:
            return await http.post("/api/erp/events", content=body, headers=headers)

    async def deliveries(self) -> list[dict[str, Any]]:
        async with self.stack.admin() as admin:
            response = await admin.get("/admin/webhooks")
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()["deliveries"]
        return rows


@pytest.fixture
async def pushes(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> AsyncIterator[PushStack]:
    """An API on a port of its own, an ERP simulator pushing to it, and a worker."""
    port = free_port()
    erp_sim = start_erp_sim(webhook_url=f"http://127.0.0.1:{port}/api/erp/events")
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
    )
    api = ServerThread(create_app(settings), port=port).start()
    notifier = LogNotifier()
    try:
        async with running_worker(
            settings, temporal_client, task_queue=task_queue, notifier=notifier
        ):
            stack = CycleStack(temporal_client, settings, sessions, task_queue, erp_sim, notifier)
            yield PushStack(stack, api.base_url)
    finally:
        await terminate_open_workflows(temporal_client, task_queue)
        api.stop()
        erp_sim.server.stop()


async def _submitted(stack: CycleStack) -> tuple[int, str, CycleState]:
    customer_id, erp_code = await stack.new_customer()
    await stack.start(customer_id, PUSH_ONLY)
    waiting = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    await send_update(
        stack.client,
        customer_id,
        names.APPROVE,
        ApproveRequest(version=waiting.recommendation.version, actor="buyer"),
    )
    done: CycleState = await cycle_handle(stack.client, customer_id).result()
    await stack.wait_shipments(done, ShipmentStatus.AWAITING_SHIPMENT)
    return customer_id, erp_code, done


async def _until(check: Callable[[], Any], what: str, attempts: int = 200) -> Any:
    for _ in range(attempts):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {what}")


async def test_erp_pushes_move_each_shipment_at_once_to_delivery(
    pushes: PushStack, figure: Figure
) -> None:
    stack = pushes.stack
    customer_id, erp_code, done = await _submitted(stack)
    first, *_ = done.orders
    assert first.erp_order_number and first.shipment_workflow_id and first.eta

    t0 = time.perf_counter()
    await stack.advance_erp(days=8)  # every order ships
    shipped = await stack.wait_shipments(done, ShipmentStatus.IN_TRANSIT)
    shipped_s = time.perf_counter() - t0
    assert all(s.pushes >= 1 and s.checks == 0 for s in shipped), shipped

    # The ERP moves one order's arrival by ten days: late against its promise, at once.
    async with stack.admin() as admin:
        moved = await admin.post(
            f"/admin/customers/{erp_code}/orders/{first.erp_order_number}/delay",
            json={"days": 10},
        )
    assert moved.status_code == 200, moved.text

    async def late() -> ShipmentState | None:
        state = await stack.shipment(first.shipment_workflow_id or "")
        return state if state.status is ShipmentStatus.LATE else None

    slipped: ShipmentState = await _until(late, "the delayed order late")
    assert slipped.eta == first.eta + timedelta(days=10)
    assert slipped.promised_eta == first.eta and slipped.eta_changes == 1
    assert slipped.late_reason and "past the promised" in slipped.late_reason
    late_notices = [m for m in stack.notifier.sent if "ETA" in m.subject]
    await stack.wait_notified("is past the promised")  # the late notice, buyer and ops

    async def ops_told() -> list[Message]:
        # The buyer's and ops' copies are two Notification workflows: either may come first.
        return [
            m
            for m in stack.notifier.sent
            if "is past the promised" in m.subject and m.to == [stack.settings.ops_email]
        ]

    ops_late = await _until(ops_told, "ops told of the late order")

    await stack.advance_erp(days=7 * 12)
    delivered = await stack.wait_shipments(done, ShipmentStatus.DELIVERED)
    assert all(s.checks == 0 for s in delivered), "news came by poll, not push"
    late_one = next(s for s in delivered if s.order_id == first.order_id)
    assert late_one.late and late_one.delivered_on == slipped.eta
    await stack.wait_notified("delivered")

    deliveries = await pushes.deliveries()
    assert deliveries and {d["status"] for d in deliveries} == {"delivered"}, deliveries
    assert {d["last_status_code"] for d in deliveries} == {202}
    async with stack.sessions() as session:
        row = await session.get(Order, first.order_id)
        kinds = list(
            await session.scalars(
                select(OrderEvent.kind)
                .where(OrderEvent.order_id == first.order_id)
                .order_by(OrderEvent.id)
            )
        )
        audited = set(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.customer_id == customer_id)
            )
        )
        receipts = await session.scalar(select(func.count()).select_from(ErpEventReceipt))
    assert row is not None and row.late and row.status == "delivered"
    assert row.promised_eta == first.eta and row.shipment_status == "delivered"
    assert kinds == ["shipped", "eta_changed", "late", "delivered"], kinds
    assert {"order.eta_changed", "order.late", "order.delivered"} <= audited
    assert receipts == len(deliveries)
    figure(
        shipments=len(delivered),
        pushes=len(deliveries),
        polls=sum(s.checks for s in delivered),
        advance_to_all_in_transit_s=round(shipped_s, 2),
        late_notices=len(late_notices) + len(ops_late),
    )


async def test_a_bad_or_stale_signature_is_401_and_changes_nothing(
    pushes: PushStack, figure: Figure
) -> None:
    stack = pushes.stack
    _customer_id, erp_code, done = await _submitted(stack)
    order = done.orders[0]
    body = json.dumps(
        {
            "EVENT_ID": "EV-forged-1",
            "EVENT_TYPE": "ORDER_DELIVERED",
            "CUST_NO": erp_code,
            "ORDER_NO": order.erp_order_number,
            "ORDER_STAT": "DLVD",
            "ETA_DT": None,
            "DLV_DT": "01.01.2027",
        }
    ).encode()
    now = int(time.time())
    cases = {
        "wrong secret": signed_headers("not-the-secret", now, body),
        "stale": signed_headers(SIM_WEBHOOK_SECRET, now - 3600, body),
        "from the future": signed_headers(SIM_WEBHOOK_SECRET, now + 3600, body),
        "body changed": signed_headers(SIM_WEBHOOK_SECRET, now, body.replace(b"DLVD", b"INTR")),
        "unsigned": {"Content-Type": "application/json"},
    }
    codes = {}
    for name, headers in cases.items():
        response = await pushes.post(body, headers)
        codes[name] = response.status_code
        assert response.status_code == 401, (name, response.text)
        assert response.json()["error"] == "bad_signature"
    state = await stack.shipment(order.shipment_workflow_id or "")
    assert state.status is ShipmentStatus.AWAITING_SHIPMENT and state.pushes == 0
    async with stack.sessions() as session:
        row = await session.get(Order, order.order_id)
        receipts = await session.scalar(select(func.count()).select_from(ErpEventReceipt))
    assert row is not None and row.status == "submitted" and receipts == 0

    # Signed right, but about an order we do not have, or not an event at all.
    signed = signed_headers(SIM_WEBHOOK_SECRET, now, body.replace(b'"SO', b'"XX'))
    unknown = await pushes.post(body.replace(b'"SO', b'"XX'), signed)
    assert unknown.status_code == 404 and unknown.json()["field"] == "ORDER_NO", unknown.text
    garbled = body.replace(b'"DLVD"', b'"GONE"')
    bad = await pushes.post(garbled, signed_headers(SIM_WEBHOOK_SECRET, now, garbled))
    assert bad.status_code == 422 and bad.json()["field"] == "status", bad.text
    huge = b"{" + b" " * 70_000 + b"}"
    too_big = await pushes.post(huge, signed_headers(SIM_WEBHOOK_SECRET, now, huge))
    assert too_big.status_code == 413
    figure(refused=codes, unknown_order=unknown.status_code, bad_body=bad.status_code)


async def test_the_same_push_delivered_twice_is_one_event(
    pushes: PushStack, figure: Figure
) -> None:
    stack = pushes.stack
    _, _erp_code, done = await _submitted(stack)
    await stack.advance_erp(days=8)
    await stack.wait_shipments(done, ShipmentStatus.IN_TRANSIT)
    deliveries = await pushes.deliveries()
    shipped = [d for d in deliveries if d["event_type"] == "ORDER_SHIPPED"]
    assert len(shipped) == len(done.orders), deliveries
    event_id = shipped[0]["event_id"]
    async with stack.admin() as admin:
        again = await admin.post(f"/admin/webhooks/{event_id}/redeliver")
    assert again.status_code == 200 and again.json()["status_code"] == 200, again.text
    order = next(o for o in done.orders if o.erp_order_number == shipped[0]["order_number"])
    state = await stack.shipment(order.shipment_workflow_id or "")
    assert state.pushes == 1 and state.seen_events == [event_id], state
    # The workflow's state moves before its activity has written the event: wait for the
    # write (a guard against hanging, not a time limit), then count.
    for _ in range(150):
        async with stack.sessions() as session:
            events = list(
                await session.scalars(
                    select(OrderEvent.kind).where(OrderEvent.order_id == order.order_id)
                )
            )
            receipts = list(
                await session.scalars(
                    select(ErpEventReceipt.event_id).where(ErpEventReceipt.event_id == event_id)
                )
            )
        if events and receipts:
            break
        await asyncio.sleep(0.2)
    assert events == ["shipped"] and receipts == [event_id]
    figure(deliveries_of_one_event=2, shipment_pushes=state.pushes, order_events=len(events))
