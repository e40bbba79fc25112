"""Heartbeat while an activity works, so a worker that dies mid-activity is noticed after the
heartbeat timeout (seconds) instead of the activity's start-to-close timeout (minutes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from temporalio import activity

from workflows.contract.timing import HEARTBEAT_TIMEOUT

HEARTBEAT_EVERY = timedelta(seconds=2)
__all__ = ["HEARTBEAT_EVERY", "HEARTBEAT_TIMEOUT", "heartbeating"]


@contextlib.asynccontextmanager
async def heartbeating(every: timedelta = HEARTBEAT_EVERY) -> AsyncIterator[None]:
    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every.total_seconds())

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
