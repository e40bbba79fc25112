"""The worker on the real dev server and on the time-skipping server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.settings import Environment, Settings
from core.temporal import connect
from store.customers import upsert_customer
from store.db import create_engine, unit_of_work
from worker import erp_limits, running_worker
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


async def test_the_sdk_cores_log_lines_go_through_python_logging_without_colour_codes(
    time_skipping_env: WorkflowEnvironment,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker's log file is plain text: the core's warnings (this server lacks a
    capability the core asks for) arrive as Python log records."""
    settings = app_settings.model_copy(
        update={"temporal_address": time_skipping_env.client.service_client.config.target_host}
    )
    client = await connect(settings)
    with caplog.at_level(logging.WARNING, logger="temporalio.core"):
        async with running_worker(settings, client, task_queue=task_queue):
            result = await _run_stack_check(client, task_queue)
            for _ in range(50):
                if any(r.name.startswith("temporalio.core") for r in caplog.records):
                    break
                await asyncio.sleep(0.1)
    assert result.note == "smoke"
    core = [r for r in caplog.records if r.name.startswith("temporalio.core")]
    assert core, [r.name for r in caplog.records]
    assert all("\x1b[" not in r.getMessage() for r in core)


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


def test_the_erp_queue_carries_the_rate_limit_and_the_concurrency_cap() -> None:
    limited = Settings(
        env=Environment.TEST, erp_max_requests_per_second=5, erp_max_concurrent_calls=3
    )
    assert erp_limits(limited) == {
        "max_concurrent_activities": 3,
        "max_task_queue_activities_per_second": 5,
    }
    unlimited = Settings(env=Environment.TEST, erp_max_requests_per_second=None)
    assert "max_task_queue_activities_per_second" not in erp_limits(unlimited)


async def test_the_workflow_queue_takes_its_cache_concurrency_and_pool_from_the_settings(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    tuned = app_settings.model_copy(
        update={
            "worker_max_cached_workflows": 7,
            "worker_max_concurrent_workflow_tasks": 5,
            "worker_max_concurrent_activities": 3,
        }
    )
    async with running_worker(tuned, temporal_client, task_queue=task_queue) as running:
        config = running.worker.config()
        result = await _run_stack_check(temporal_client, task_queue)
    assert config["max_cached_workflows"] == 7
    assert config["max_concurrent_workflow_tasks"] == 5
    assert config["max_concurrent_activities"] == 3
    assert result.worker_task_queue == task_queue


def test_worker_tuning_settings_are_checked_by_field() -> None:
    for field, value in [
        ("worker_max_concurrent_workflow_tasks", 1),  # Temporal needs a sticky and a normal slot
        ("worker_max_cached_workflows", -1),
        ("worker_max_concurrent_activities", 0),
        ("database_pool_size", 0),
    ]:
        with pytest.raises(ValidationError) as refused:
            Settings.model_validate({"env": Environment.TEST, field: value})
        assert refused.value.errors()[0]["loc"] == (field,)


def test_a_postgresql_engine_keeps_the_pool_it_is_given() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/test", pool_size=3)
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() == 3 and pool._max_overflow == 3
    finally:
        engine.sync_engine.dispose()
