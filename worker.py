"""Runs the Temporal worker: `python worker.py` or `restock worker`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.notifier import Notifier
from activities.registry import ActivityDeps, build_activities, build_erp_activities
from core.process import tune_gc_for_service
from core.settings import Settings, get_settings
from core.temporal import connect
from core.update_signing import VerifyUpdates, signing_key
from erp.client import open_erp_client
from store.db import create_engine, create_session_factory
from workflows.contract import names
from workflows.registry import WORKFLOWS

log = logging.getLogger("restock.worker")


async def connect_with_retry(settings: Settings, attempts: int = 60) -> Client:
    """The dev stack starts Temporal and the worker together; wait for the server briefly."""
    delay = 0.25
    for attempt in range(1, attempts + 1):
        try:
            return await connect(settings)
        except Exception as exc:
            if attempt == attempts:
                raise
            log.info("Temporal at %s not ready (%s); retrying", settings.temporal_address, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


def erp_limits(settings: Settings) -> dict[str, Any]:
    """The ERP queue's limits: a rate across every worker of the queue (Temporal enforces
    it on the server) and a cap on the calls this worker runs at once."""
    limits: dict[str, Any] = {"max_concurrent_activities": settings.erp_max_concurrent_calls}
    if settings.erp_max_requests_per_second is not None:
        limits["max_task_queue_activities_per_second"] = settings.erp_max_requests_per_second
    return limits


@asynccontextmanager
async def running_worker(
    settings: Settings,
    client: Client,
    *,
    task_queue: str | None = None,
    notifier: Notifier | None = None,
) -> AsyncIterator[Worker]:
    """A worker with every workflow and activity, its dependencies built once."""
    engine = create_engine(settings.database_url)
    try:
        async with open_erp_client(settings) as erp:
            deps = ActivityDeps(
                settings=settings,
                sessions=create_session_factory(engine),
                erp=erp,
                notifier=notifier,
            )
            queue = task_queue or settings.temporal_task_queue
            worker = Worker(
                client,
                task_queue=queue,
                workflows=WORKFLOWS,
                activities=build_activities(deps),
                graceful_shutdown_timeout=timedelta(seconds=10),
                interceptors=[VerifyUpdates(signing_key(settings))],
            )
            erp_worker = Worker(
                client,
                task_queue=names.erp_task_queue(queue),
                activities=build_erp_activities(deps),
                graceful_shutdown_timeout=timedelta(seconds=10),
                **erp_limits(settings),
            )
            async with worker, erp_worker:
                yield worker
    finally:
        await engine.dispose()


async def main(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    client = await connect_with_retry(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running_worker(settings, client):
        tune_gc_for_service()
        log.info(
            "worker polling task queues %r and %r on %s",
            settings.temporal_task_queue,
            names.erp_task_queue(settings.temporal_task_queue),
            settings.temporal_address,
        )
        await stop.wait()
        log.info("shutting down: finishing running activities")
    log.info("worker stopped")


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(main())
