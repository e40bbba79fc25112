"""The worker on the real dev server and on the time-skipping server."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from store.customers import upsert_customer
from store.db import unit_of_work
from worker import running_worker
from workflows.contract.stack_check import StackCheckInput, StackCheckResult
from workflows.stack_check import StackCheck

ROOT = Path(__file__).resolve().parents[2]


async def _run_stack_check(client: Client, task_queue: str) -> StackCheckResult:
    return await client.execute_workflow(
        StackCheck.run,
        StackCheckInput(note="smoke"),
        id=f"stack-check-{uuid.uuid4().hex}",
        task_queue=task_queue,
    )


async def test_stack_check_on_the_dev_server_reads_the_database(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    async with unit_of_work(sessions) as session:
        await upsert_customer(session, erp_code="A", name="A", timezone="UTC")
        await upsert_customer(session, erp_code="B", name="B", timezone="UTC")
    async with running_worker(app_settings, temporal_client, task_queue=task_queue):
        result = await _run_stack_check(temporal_client, task_queue)
    assert result.customers == 2
    assert result.worker_task_queue == task_queue
    assert result.note == "smoke"


async def test_stack_check_under_time_skipping(
    time_skipping_env: WorkflowEnvironment,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    async with running_worker(app_settings, time_skipping_env.client, task_queue=task_queue):
        result = await _run_stack_check(time_skipping_env.client, task_queue)
    assert result.customers == 0


async def test_worker_process_stops_gracefully_on_sigterm(
    temporal_client: Client, app_settings: Settings, task_queue: str
) -> None:
    env = {
        **os.environ,
        "RESTOCK_TEMPORAL_ADDRESS": app_settings.temporal_address,
        "RESTOCK_TEMPORAL_TASK_QUEUE": task_queue,
        "RESTOCK_DATABASE_URL": app_settings.database_url,
        "PYTHONUNBUFFERED": "1",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "worker.py"), env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    seen: list[str] = []
    while not any("worker polling" in line for line in seen):
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line, f"worker exited early: {''.join(seen)}"
        seen.append(line)
    result = await _run_stack_check(temporal_client, task_queue)
    assert result.worker_task_queue == task_queue
    proc.send_signal(signal.SIGTERM)
    rest, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, rest.decode()
    assert "worker stopped" in rest.decode()
