"""`python worker.py` in a process of its own, for the benchmarks and the tests that need
the worker as production runs it. No side effects on import (bench/harness.py has some)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _read(log: Path) -> str:
    return log.read_text()


@asynccontextmanager
async def worker_process(
    settings: Settings, log: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[int]:
    """`python worker.py` in a process of its own, as production runs it: the bench's own
    polling and the ERP simulator do not share its event loop. Yields its pid."""
    env = {
        **os.environ,
        "RESTOCK_ENV": "test",
        "RESTOCK_DATABASE_URL": settings.database_url,
        "RESTOCK_TEMPORAL_ADDRESS": settings.temporal_address,
        "RESTOCK_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "RESTOCK_ERP_BASE_URL": settings.erp_base_url,
        "RESTOCK_ERP_API_KEY": settings.erp_api_key,
        "RESTOCK_ERP_ADMIN_KEY": settings.erp_admin_key,
        **(extra_env or {}),
    }
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "worker.py"), env=env, cwd=ROOT, stdout=out, stderr=out
        )
    try:
        for _ in range(3_000):
            if "worker polling" in _read(log):
                break
            if proc.returncode is not None:
                raise RuntimeError(f"worker exited:\n{_read(log)}")
            await asyncio.sleep(0.02)
        else:
            raise RuntimeError("the worker never started polling")
        yield proc.pid
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
