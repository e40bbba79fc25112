"""Workers share the ERP's request rate: each one's pacer runs at the limit over the number of
worker processes polling the ERP queue, as the Temporal server sees them (across the queue's
partitions: an idle poller can wait on another partition than the root for a minute)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings
from tests.plugins.erp_sim import ErpSim
from worker import erp_workers, running_worker
from workflows.contract import names


async def _until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(300):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(what)


async def test_two_workers_each_take_half_of_the_erp_rate(
    temporal_client: Client,
    app_settings: Settings,
    erp_sim: ErpSim,
    task_queue: str,
) -> None:
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
        erp_max_requests_per_second=30,
    )
    erp_queue = names.erp_task_queue(task_queue)
    clients = [
        await Client.connect(
            temporal_client.service_client.config.target_host,
            namespace=temporal_client.namespace,
            identity=f"worker-{k}@test",  # two processes, as Temporal tells them apart
            data_converter=pydantic_data_converter,
        )
        for k in range(2)
    ]
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(
            running_worker(settings, clients[0], task_queue=task_queue)
        )
        await _until(lambda: _count(clients[0], erp_queue, 1), "one worker never polled")
        second = await stack.enter_async_context(
            running_worker(settings, clients[1], task_queue=task_queue)
        )
        await _until(lambda: _count(clients[0], erp_queue, 2), "the second never polled")
        pacers = [w.erp_pacer for w in (first, second)]

        async def halved() -> bool:
            return all(p is not None and p.rate == 15 for p in pacers)

        await _until(halved, "the workers never took their half of the rate")


async def _count(client: Client, erp_queue: str, expected: int) -> bool:
    return await erp_workers(client, erp_queue) == expected
