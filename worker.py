"""Runs the Temporal worker: `python worker.py` or `restock worker`."""

from __future__ import annotations

import asyncio
import compileall
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import DescribeTaskQueueMode, TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

import workflows as workflows_package
from activities.notifier import Notifier
from activities.registry import ActivityDeps, build_activities, build_erp_activities
from core.logs import ActivityLogContext
from core.metrics import serve as serve_metrics
from core.process import tune_gc_for_service
from core.settings import Settings, get_settings
from core.temporal import connect
from core.update_signing import VerifyUpdates, signing_key
from erp.client import open_erp_client
from erp.pacing import RequestPacer
from store.db import create_engine, create_session_factory
from workflows.contract import names
from workflows.registry import WORKFLOWS

log = logging.getLogger("restock.worker")


async def connect_with_retry(
    settings: Settings, attempts: int = 60, *, sdk_metrics: bool = False
) -> Client:
    """The dev stack starts Temporal and the worker together; wait for the server briefly."""
    delay = 0.25
    for attempt in range(1, attempts + 1):
        try:
            return await connect(settings, sdk_metrics=sdk_metrics)
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


def worker_limits(settings: Settings) -> dict[str, Any]:
    """The workflows' queue: sticky cache and concurrency, chosen by bench/fleet.py."""
    return {
        "max_cached_workflows": settings.worker_max_cached_workflows,
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
    }


SHARE_EVERY_S = 5.0
POLLER_SEEN_S = 90.0
"""A poller seen this recently is a live worker (an idle long poll lasts about a minute)."""


async def erp_workers(client: Client, erp_queue: str) -> int:
    """How many worker processes poll the ERP queue, as the Temporal server sees them.

    A task queue has several partitions and an idle poller waits on one of them for a
    minute; the enhanced description reports the pollers of every partition (the legacy
    one, the fallback for a server without it, only those of the root partition)."""
    queue = TaskQueue(name=erp_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL)
    activity_type = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
    try:
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=queue,
                api_mode=DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
                task_queue_types=[activity_type],
                report_pollers=True,
            )
        )
        pollers = [
            p
            for version in described.versions_info.values()
            for kind in version.types_info.values()
            for p in kind.pollers
        ]
    except RPCError:
        legacy = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace, task_queue=queue, task_queue_type=activity_type
            )
        )
        pollers = list(legacy.pollers)
    now = datetime.now(UTC)
    live = {
        p.identity
        for p in pollers
        if (now - p.last_access_time.ToDatetime(UTC)).total_seconds() <= POLLER_SEEN_S
    }
    return max(len(live), 1)


async def share_erp_rate(
    client: Client, settings: Settings, pacer: RequestPacer, erp_queue: str
) -> None:
    """Keep this worker's ERP request rate at its share of the global limit: the limit over
    the workers polling the ERP queue. A worker that joins is counted by the others within
    SHARE_EVERY_S; one that left, within POLLER_SEEN_S (meanwhile the rest stay below)."""
    limit = settings.erp_max_requests_per_second
    if limit is None:
        return
    failing = False
    while True:
        try:
            pacer.set_rate(limit / await erp_workers(client, erp_queue))
            failing = False
        except RPCError as err:
            # Said once per outage, not every SHARE_EVERY_S while it lasts.
            if not failing:
                log.warning("could not count the ERP queue's workers (%s); rate stays", err)
            failing = True
        await asyncio.sleep(SHARE_EVERY_S)


@dataclass(frozen=True)
class RunningWorker:
    worker: Worker
    erp_worker: Worker
    erp_pacer: RequestPacer | None


@asynccontextmanager
async def running_worker(
    settings: Settings,
    client: Client,
    *,
    task_queue: str | None = None,
    notifier: Notifier | None = None,
) -> AsyncIterator[RunningWorker]:
    """A worker with every workflow and activity, its dependencies built once; ERP calls
    are polled by a worker of their own on the ERP queue, their requests paced."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
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
                interceptors=[VerifyUpdates(signing_key(settings)), ActivityLogContext()],
                **worker_limits(settings),
            )
            erp_worker = Worker(
                client,
                task_queue=names.erp_task_queue(queue),
                activities=build_erp_activities(deps),
                graceful_shutdown_timeout=timedelta(seconds=10),
                interceptors=[ActivityLogContext()],
                **erp_limits(settings),
            )
            async with worker, erp_worker:
                sharing = (
                    asyncio.create_task(
                        share_erp_rate(client, settings, erp.pacer, names.erp_task_queue(queue))
                    )
                    if erp.pacer is not None
                    else None
                )
                try:
                    yield RunningWorker(worker, erp_worker, erp.pacer)
                finally:
                    if sharing is not None:
                        sharing.cancel()
    finally:
        await engine.dispose()


def compile_workflows() -> None:
    """Write the workflow package's bytecode. The sandbox imports a workflow's module anew
    for every workflow run; without bytecode (PYTHONDONTWRITEBYTECODE, as in our image) each
    import compiles the source again, a tenth of a busy worker's CPU (bench/fleet.py).
    Python reads bytecode under that setting; it only does not write it. A read-only
    install is left as it is (the image compiles at build time)."""
    package = Path(workflows_package.__file__).parent
    if not compileall.compile_dir(package, quiet=2):
        log.info("workflow bytecode not written in %s (read-only?)", package)


async def main(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    compile_workflows()
    if settings.worker_metrics_address:
        serve_metrics(settings.worker_metrics_address)
        log.info("metrics at http://%s/metrics", settings.worker_metrics_address)
    client = await connect_with_retry(settings, sdk_metrics=True)
    if settings.temporal_metrics_address:
        log.info("Temporal SDK metrics at http://%s/metrics", settings.temporal_metrics_address)
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
    from cli import log_setup

    log_setup.configure("worker")
    asyncio.run(main())
