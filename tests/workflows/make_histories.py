"""Record event histories of finished cycles for the replay test (`test_replay.py`).

    .venv/bin/python -m tests.workflows.make_histories [generation]

Runs four small cycles on a private dev server, ERP simulator and SQLite database, exactly as
the tests do, and writes each history as JSON to tests/workflows/histories/:

- approved: approved, submitted once per container, tracked to delivery, completed
- rejected: rejected with a reason
- expired: nobody decided; reminders, then expiry (a few seconds of policy)
- failed_then_retried: the ERP rejected the submission, ops retried after the fix, completed

Record a new generation when the workflow changes behind a `workflow.patched` guard
(`make_histories submit-in-approval` writes `approved.submit-in-approval.json` and so on): the
new histories cover the new path, and the older ones, kept, prove that cycles started before
the change still replay.
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

from activities.cycle_models import (
    ApproveRequest,
    CyclePolicy,
    CycleStatus,
    OpsRequest,
    RejectRequest,
)
from activities.notifier import LogNotifier
from core.temporal import SEARCH_ATTRIBUTES, temporal_cli_path
from services.cycle_control import cycle_handle, send_update
from store.db import create_engine, create_session_factory
from store.migrate import upgrade_async
from tests.plugins.erp_sim import start_erp_sim
from tests.workflows.conftest import CycleStack
from worker import running_worker
from workflows.reorder_cycle import ReorderCycle

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


async def approved(stack: CycleStack, customer_id: int) -> None:
    await stack.start(customer_id)
    version = await _waiting_version(stack, customer_id)
    await send_update(
        stack.client,
        customer_id,
        ReorderCycle.approve,
        ApproveRequest(version=version, actor="buyer"),
    )
    await stack.wait_for(customer_id, CycleStatus.TRACKING)
    await stack.advance_erp(days=7 * 12)


async def rejected(stack: CycleStack, customer_id: int) -> None:
    await stack.start(customer_id)
    version = await _waiting_version(stack, customer_id)
    await send_update(
        stack.client,
        customer_id,
        ReorderCycle.reject,
        RejectRequest(version=version, reason="stock count pending", actor="buyer"),
    )


async def expired(stack: CycleStack, customer_id: int) -> None:
    await stack.start(customer_id, EXPIRING)


async def failed_then_retried(stack: CycleStack, customer_id: int) -> None:
    await stack.start(customer_id)
    version = await _waiting_version(stack, customer_id)
    with stack.erp_sim.faults(endpoints=["submit"], reject_code="CREDIT_HOLD"):
        await send_update(
            stack.client,
            customer_id,
            ReorderCycle.approve,
            ApproveRequest(version=version, actor="buyer"),
        )
        await stack.wait_for(customer_id, CycleStatus.SUBMISSION_FAILED)
    await send_update(
        stack.client,
        customer_id,
        ReorderCycle.retry,
        OpsRequest(actor="ops", reason="credit released"),
    )
    await stack.wait_for(customer_id, CycleStatus.TRACKING)
    await stack.advance_erp(days=7 * 12)


SCENARIOS: dict[str, tuple[Callable[[CycleStack, int], Awaitable[None]], CycleStatus]] = {
    "approved": (approved, CycleStatus.COMPLETED),
    "rejected": (rejected, CycleStatus.REJECTED),
    "expired": (expired, CycleStatus.EXPIRED),
    "failed_then_retried": (failed_then_retried, CycleStatus.COMPLETED),
}


async def record(client: Client, stack: CycleStack, generation: str) -> None:
    HISTORIES.mkdir(exist_ok=True)
    for name, (scenario, final) in SCENARIOS.items():
        customer_id, _ = await stack.new_customer(n_products=SMALL)
        await scenario(stack, customer_id)
        handle = cycle_handle(client, customer_id)
        result = await handle.result()
        assert result.status is final, (name, result.status)
        history = await handle.fetch_history()
        path = HISTORIES / f"{name}{'.' + generation if generation else ''}.json"
        path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
        print(f"{path.name}: {len(history.events)} events, {result.status.value}")


async def main(generation: str) -> None:
    erp = start_erp_sim()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
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
