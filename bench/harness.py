"""Shared set-up for the benchmarks that serve the API: a PostgreSQL database of their own,
the 4,000-product demo customer loaded through the real path, uvicorn in a child process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# RESTOCK_ENV=test outside the test suite needs a signing secret of its own (core.settings);
# set before any Settings is built, and inherited by the API and worker processes started.
os.environ.setdefault("RESTOCK_JWT_SECRET", secrets.token_urlsafe(32))

from api.auth import tokens  # noqa: E402
from core.process import tune_gc_for_service  # noqa: E402
from core.settings import Environment, Settings  # noqa: E402
from erp.client import ErpClient, build_http_client  # noqa: E402
from erp.simulator.app import create_app as create_sim  # noqa: E402
from erp.simulator.generator import DEMO_LARGE  # noqa: E402
from erp.simulator.server import ServerThread  # noqa: E402
from erp.simulator.world import SimWorld  # noqa: E402
from services.accounts import create_user  # noqa: E402
from services.recommend import recommend  # noqa: E402
from services.sync import sync_customer  # noqa: E402
from store.customers import upsert_customer  # noqa: E402
from store.db import create_engine, create_session_factory, unit_of_work  # noqa: E402
from store.migrate import upgrade_async  # noqa: E402
from store.models import Role  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SIM_KEY = "bench-erp-key"


def machine_gauge_ms(repeat: int = 5) -> float:
    """CPU milliseconds of a fixed pure-Python workload, best of `repeat`: how fast this
    machine runs Python today. Shared cloud cores differ from day to day (the same commit's
    server CPU per request in bench/api.py has measured 3x apart on two days), so compare a
    bench's absolute figures across days only at a like gauge; ratios within a run stand."""

    def work() -> int:
        counts: dict[int, int] = {}
        for i in range(200_000):
            counts[i % 997] = counts.get(i % 997, 0) + i
        return sum(sorted(counts.values()))

    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return round(best * 1000, 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def admin(base: str, sql: str) -> None:
    dsn = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def load(url: str, settings: Settings) -> tuple[int, str, dict[str, float]]:
    """Sync and plan the large demo customer from the simulator; return its id and a token."""
    timings: dict[str, float] = {}
    await upgrade_async(url)
    world = SimWorld.demo(42, date.today())
    with ServerThread(create_sim(world, api_key=SIM_KEY, admin_key="bench-admin")) as sim:
        engine = create_engine(url)
        http = build_http_client(settings.model_copy(update={"erp_base_url": sim.base_url}))
        try:
            sessions = create_session_factory(engine)
            async with unit_of_work(sessions) as session:
                customer = await upsert_customer(
                    session, erp_code=DEMO_LARGE, name=DEMO_LARGE, timezone="UTC"
                )
                customer_id = customer.id
            erp = ErpClient(http, base_url=sim.base_url, api_key=SIM_KEY)
            started = time.perf_counter()
            await sync_customer(sessions, erp, customer_id)
            timings["sync_s"] = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            version = await recommend(sessions, customer_id)
            timings["recommend_s"] = round(time.perf_counter() - started, 2)
            timings["recommendation_lines"] = len(version.lines)
            async with unit_of_work(sessions) as session:
                user = await create_user(
                    session,
                    username="bench-buyer",
                    password="bench-password-123",
                    role=Role.CUSTOMER,
                    customer_id=customer_id,
                    actor="bench",
                )
            token = tokens.issue(settings, user).token
        finally:
            await http.aclose()
            await engine.dispose()
    return customer_id, token, timings


def serve(url: str, port: int, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The API as `restock api` runs it (logs and, with RESTOCK_OTLP_ENDPOINT in `env`,
    traces configured first), with `env` over this process's environment."""
    child_env = {
        **os.environ,
        "RESTOCK_ENV": "test",
        "RESTOCK_DATABASE_URL": url,
        "RESTOCK_JWT_EXPIRY_MINUTES": "60",
        **(env or {}),
    }
    code = (
        "import uvicorn; from cli.log_setup import configure; from webapp import create_app; "
        "configure('api'); "
        "uvicorn.run(create_app(owns_process=True), "
        f"host='127.0.0.1', port={port}, log_level='warning', access_log=False)"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=child_env)


async def wait_ready(base: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    async with httpx.AsyncClient(base_url=base) as client:
        while True:
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("API did not start")
            await asyncio.sleep(0.2)


def proc_stat(pid: int) -> list[str] | None:
    """The fields of `/proc/PID/stat` after the command name, state first (Linux; None when
    there is no such process or no /proc)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int, *, ended_children: bool = False) -> float | None:
    """User + system CPU a process has used; with `ended_children`, also that of its children
    it has reaped (Linux /proc; None elsewhere)."""
    fields = proc_stat(pid)
    if fields is None:
        return None
    ticks = fields[11:15] if ended_children else fields[11:13]
    return sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Served:
    site: str  # the API's base URL
    database_url: str
    customer_id: int
    token: str  # the buyer's bearer token
    load_timings: dict[str, float]
    server_pid: int


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A database of its own on RESTOCK_TEST_POSTGRES_URL's server (default: this machine's),
    dropped afterwards: its URL."""
    base = os.environ.get("RESTOCK_TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"restock_bench_{uuid.uuid4().hex[:8]}"
    await admin(base, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def served_large_customer() -> AsyncIterator[Served]:
    """A PostgreSQL database of its own with the large demo customer loaded through the real
    path, the API serving it in a child process; all of it removed afterwards."""
    async with postgres_database() as url, _served(url) as served:
        yield served


@asynccontextmanager
async def _served(url: str) -> AsyncIterator[Served]:
    settings = Settings(env=Environment.TEST, database_url=url, jwt_expiry_minutes=60)
    server: subprocess.Popen[bytes] | None = None
    try:
        customer_id, token, load_timings = await load(url, settings)
        # The load leaves a heap a full collection takes 150-300 ms to walk; in this process,
        # which drives the requests, each pause stalled every request in flight and was
        # counted as the server's tail (/healthz p99 100-150 ms at the server's usual CPU).
        tune_gc_for_service()
        # What autovacuum does soon after any bulk load: statistics and the visibility map.
        await admin(url, "VACUUM ANALYZE")
        port = free_port()
        server = serve(url, port)
        site = f"http://127.0.0.1:{port}"
        await wait_ready(site)
        yield Served(site, url, customer_id, token, load_timings, server.pid)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While it is open, this process's stdout (fd 1) is its stderr, so a child started
    meanwhile (the Temporal dev server prints a banner) writes there: a bench's stdout
    carries its JSON only."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
