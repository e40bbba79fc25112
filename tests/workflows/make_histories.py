"""Record event histories of finished workflows for the replay test (`test_replay.py`).

    .venv/bin/python -m tests.workflows.make_histories [generation]

Runs small cycles on a private dev server, ERP simulator and SQLite database, exactly as the
tests do, and writes each history as JSON to tests/workflows/histories/:

- approved: approved and submitted once per container (earlier generations: tracked to
  delivery, completed; since `shipments`: the cycle ends at the submission)
- rejected: rejected with a reason
- expired: nobody decided; reminders, then expiry (a few seconds of policy)
- failed_then_retried: the ERP rejected the submission, ops retried after the fix
- reviewed (since `shipments`): a review on cadence refreshed the waiting recommendation,
  which was then approved
- shipment (since `shipments`): one order's Shipment: its arrival delayed in the ERP (ETA
  changed, late), a push by signal, then delivered
- notification (since `shipments`): one message's Notification workflow

Record a new generation when a workflow changes behind a `workflow.patched` guard
(`make_histories submit-in-approval` writes `approved.submit-in-approval.json` and so on): the
new histories cover the new path, and the older ones, kept, prove that workflows started
before the change still replay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.notifier import LogNotifier
from core.temporal import SEARCH_ATTRIBUTES, temporal_cli_path
from services.cycle_control import cycle_handle, send_update
from store.db import create_engine, create_session_factory
from store.migrate import upgrade_async
from store.models import Customer
from tests.conftest import signed_updates
from tests.plugins.erp_sim import start_erp_sim
from tests.workflows.conftest import CycleStack
from worker import running_worker
from workflows.contract import names
from workflows.contract.cycle import (
    ApproveRequest,
    CyclePolicy,
    CycleState,
    CycleStatus,
    OpsRequest,
    RejectRequest,
    ReviewRequest,
)
from workflows.contract.shipment import Observation, ShipmentState, ShipmentStatus

HISTORIES = Path(__file__).resolve().parent / "histories"
SMALL = 6  # products per customer: keeps the files small
EXPIRING = CyclePolicy(
    remind_every=timedelta(seconds=1),
    expire_after=timedelta(seconds=3),
    track_poll_initial=timedelta(milliseconds=300),
    track_poll_max=timedelta(seconds=1),
)


async def _waiting_version(stack: CycleStack, customer_id: int) -> int:
    state = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None
    return state.recommendation.version


Recorded = tuple[str, str]  # (workflow id, final status)


async def _cycle_result(stack: CycleStack, customer_id: int) -> Recorded:
    result: CycleState = await cycle_handle(stack.client, customer_id).result()
    return result.workflow_id, result.status.value


async def _approve(stack: CycleStack, customer_id: int, version: int) -> None:
    await send_update(
        stack.client,
        customer_id,
        names.APPROVE,
        ApproveRequest(version=version, actor="buyer"),
    )


async def approved(stack: CycleStack, customer_id: int) -> Recorded:
    await stack.start(customer_id)
    await _approve(stack, customer_id, await _waiting_version(stack, customer_id))
    return await _cycle_result(stack, customer_id)


async def rejected(stack: CycleStack, customer_id: int) -> Recorded:
    await stack.start(customer_id)
    version = await _waiting_version(stack, customer_id)
    await send_update(
        stack.client,
        customer_id,
        names.REJECT,
        RejectRequest(version=version, reason="stock count pending", actor="buyer"),
    )
    return await _cycle_result(stack, customer_id)


async def expired(stack: CycleStack, customer_id: int) -> Recorded:
    await stack.start(customer_id, EXPIRING)
    return await _cycle_result(stack, customer_id)


async def failed_then_retried(stack: CycleStack, customer_id: int) -> Recorded:
    await stack.start(customer_id)
    version = await _waiting_version(stack, customer_id)
    with stack.erp_sim.faults(endpoints=["submit"], reject_code="CREDIT_HOLD"):
        await send_update(
            stack.client,
            customer_id,
            names.APPROVE,
            ApproveRequest(version=version, actor="buyer"),
        )
        await stack.wait_for(customer_id, CycleStatus.SUBMISSION_FAILED)
    await send_update(
        stack.client,
        customer_id,
        names.RETRY,
        OpsRequest(actor="ops", reason="credit released"),
    )
    return await _cycle_result(stack, customer_id)


async def reviewed(stack: CycleStack, customer_id: int) -> Recorded:
    await stack.start(customer_id)
    await _waiting_version(stack, customer_id)
    await stack.advance_erp(days=7)  # a week later: the review's fresh plan differs
    outcome = await send_update(
        stack.client, customer_id, names.REVIEW, ReviewRequest(actor="schedule")
    )
    assert outcome.action == "refreshed", outcome
    await _approve(stack, customer_id, await _waiting_version(stack, customer_id))
    return await _cycle_result(stack, customer_id)


async def _first_shipment(stack: CycleStack, customer_id: int) -> tuple[str, str, str]:
    """Approve the customer's cycle; its first order's (shipment id, ERP code, number)."""
    await stack.start(customer_id)
    await _approve(stack, customer_id, await _waiting_version(stack, customer_id))
    result: CycleState = await cycle_handle(stack.client, customer_id).result()
    await stack.wait_shipments(result, ShipmentStatus.AWAITING_SHIPMENT)
    order = result.orders[0]
    assert order.shipment_workflow_id and order.erp_order_number
    async with stack.sessions() as session:
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        erp_code = customer.erp_code
    return order.shipment_workflow_id, erp_code, order.erp_order_number


async def shipment(stack: CycleStack, customer_id: int) -> Recorded:
    workflow_id, erp_code, number = await _first_shipment(stack, customer_id)
    async with stack.admin() as admin:
        moved = await admin.post(
            f"/admin/customers/{erp_code}/orders/{number}/delay", json={"days": 10}
        )
    moved.raise_for_status()
    handle = stack.client.get_workflow_handle(workflow_id, result_type=ShipmentState)
    for _ in range(300):
        if (await stack.shipment(workflow_id)).status is ShipmentStatus.LATE:
            break
        await asyncio.sleep(0.1)
    eta = moved.json()["eta"]
    await handle.signal(
        names.ERP_EVENT,
        Observation(
            status="in_transit", eta=eta, source="push", event_id="EV-history-1",
            event_type="shipped",
        ),
    )  # fmt: skip
    await stack.advance_erp(days=7 * 12)
    result = await handle.result()
    return workflow_id, result.status.value


async def notification(stack: CycleStack, customer_id: int) -> Recorded:
    workflow_id, _ = await approved(stack, customer_id)
    run_id = (await cycle_handle(stack.client, customer_id).describe()).run_id
    notice = names.notification_workflow_id(workflow_id, run_id, 1)
    result = await stack.client.get_workflow_handle(notice).result()
    return notice, "delivered" if result["delivered"] else "failed"


Scenario = Callable[[CycleStack, int], Awaitable[Recorded]]
SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "approved": (approved, CycleStatus.SUBMITTED.value),
    "rejected": (rejected, CycleStatus.REJECTED.value),
    "expired": (expired, CycleStatus.EXPIRED.value),
    "failed_then_retried": (failed_then_retried, CycleStatus.SUBMITTED.value),
    "reviewed": (reviewed, CycleStatus.SUBMITTED.value),
    "shipment": (shipment, ShipmentStatus.DELIVERED.value),
    "notification": (notification, "delivered"),
}


async def record(client: Client, stack: CycleStack, generation: str) -> None:
    HISTORIES.mkdir(exist_ok=True)
    for name, (scenario, final) in SCENARIOS.items():
        customer_id, _ = await stack.new_customer(n_products=SMALL)
        workflow_id, status = await scenario(stack, customer_id)
        assert status == final, (name, status)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        path = HISTORIES / f"{name}{'.' + generation if generation else ''}.json"
        path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
        print(f"{path.name}: {len(history.events)} events, {status}")


async def main(generation: str) -> None:
    erp = start_erp_sim()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        interceptors=[signed_updates()],
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/histories.db"
            await upgrade_async(url)
            engine = create_engine(url)
            task_queue = f"histories-{uuid.uuid4().hex[:8]}"
            settings = erp.settings(
                database_url=url,
                temporal_address=env.client.service_client.config.target_host,
                temporal_task_queue=task_queue,
            )
            notifier = LogNotifier()
            async with running_worker(
                settings, env.client, task_queue=task_queue, notifier=notifier
            ):
                stack = CycleStack(
                    env.client,
                    settings,
                    create_session_factory(engine),
                    task_queue,
                    erp,
                    notifier,
                )
                await record(env.client, stack, generation)
            await engine.dispose()
    finally:
        await env.shutdown()
        erp.server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Record cycle histories for test_replay.py")
    parser.add_argument(
        "generation",
        nargs="?",
        default="",
        help="suffix of the files (<scenario>.<generation>.json), so that the histories of "
        "earlier workflow code stay and keep being replayed",
    )
    asyncio.run(main(parser.parse_args().generation))
