"""Benchmark: the customer API's read routes on PostgreSQL with the 4,000-product customer.

    python bench/api.py [--rate 100] [--seconds 10]

Creates a database of its own on RESTOCK_TEST_POSTGRES_URL's server (default
postgresql+asyncpg://postgres@127.0.0.1:5432/test), loads the large demo customer through the
real path (ERP simulator -> sync_customer -> recommend), serves the app with uvicorn on
loopback in a child process, then drives each route open-loop at a fixed rate with concurrent
clients. Prints JSON per route: offered and achieved rate, p50/p99 latency (from each request's
scheduled start), server and load-generator CPU per request, and p99 as a ratio of the
baseline (/healthz at the same rate, same run). Goal: p99 < 50 ms at 100 req/s. The machine's
load average is printed too: the cores are shared, so run it more than once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.auth import tokens  # noqa: E402
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
GOAL_P99_MS = 50.0
SIM_KEY = "bench-erp-key"


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


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RESTOCK_ENV": "test",
        "RESTOCK_DATABASE_URL": url,
        "RESTOCK_JWT_EXPIRY_MINUTES": "60",
    }
    code = (
        "import uvicorn; from api.app import create_app; "
        f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning', "
        "access_log=False)"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU a process has used (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(
    client: httpx.AsyncClient, path: str, rate: float, seconds: float, server_pid: int
) -> dict[str, Any]:
    """Open loop: request i starts at i/rate whatever earlier ones are doing; latency is
    measured from that scheduled start, so a slow server cannot hide queueing delay.

    `achieved_rps` is successful responses over the time from the first scheduled start to
    the last completion: below the offered rate means requests queued. CPU per request of
    the server and of this load generator (same 2 cores) shows where the time went."""
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    server_cpu0, client_cpu0 = cpu_seconds(server_pid), time.process_time()
    t0 = time.perf_counter() + 0.05

    async def one(i: int) -> None:
        nonlocal errors
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            response = await client.get(path)
            await response.aread()
            if response.status_code != 200:
                errors += 1
        except httpx.HTTPError:
            errors += 1
        latencies.append((time.perf_counter() - scheduled) * 1000)

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - t0
    server_cpu1, client_cpu1 = cpu_seconds(server_pid), time.process_time()
    latencies.sort()
    server_cpu = (
        None
        if server_cpu0 is None or server_cpu1 is None
        else round((server_cpu1 - server_cpu0) * 1000 / total, 2)
    )
    return {
        "requests": total,
        "errors": errors,
        "offered_rps": rate,
        "achieved_rps": round((total - errors) / elapsed, 1),
        "server_cpu_ms_per_request": server_cpu,
        "client_cpu_ms_per_request": round((client_cpu1 - client_cpu0) * 1000 / total, 2),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "max_ms": round(latencies[-1], 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="per route")
    args = parser.parse_args()

    base = os.environ.get("RESTOCK_TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"restock_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    settings = Settings(env=Environment.TEST, database_url=url, jwt_expiry_minutes=60)
    await admin(base, f'CREATE DATABASE "{name}"')
    server: subprocess.Popen[bytes] | None = None
    try:
        customer_id, token, load_timings = await load(url, settings)
        # What autovacuum does soon after any bulk load: statistics and the visibility map.
        await admin(url, "VACUUM ANALYZE")
        port = free_port()
        server = serve(url, port)
        api = f"http://127.0.0.1:{port}"
        await wait_ready(api)
        c = f"/api/customers/{customer_id}"
        routes = {
            "baseline /healthz": "/healthz",
            "dashboard": f"{c}/dashboard",
            "products (page 1, by run-out)": f"{c}/products?page_size=50",
            "products (search + filter + sort)": f"{c}/products?q=coffee&status=at_risk&sort=cover",
            "recommendations": f"{c}/recommendations?page_size=20",
        }
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        results: dict[str, Any] = {}
        async with httpx.AsyncClient(
            base_url=api, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
        ) as client:
            for path in routes.values():  # warm-up: connections, caches, first query plans
                for _ in range(5):
                    await client.get(path)
            for label, path in routes.items():
                results[label] = await drive(client, path, args.rate, args.seconds, server.pid)
                size = len((await client.get(path)).content)
                results[label]["response_bytes"] = size
        baseline = results["baseline /healthz"]["p99_ms"]
        for result in results.values():
            result["p99_vs_baseline"] = round(result["p99_ms"] / baseline, 2) if baseline else None
            result["meets_goal"] = result["p99_ms"] < GOAL_P99_MS and result["errors"] == 0
        print(
            json.dumps(
                {
                    "benchmark": "api",
                    "database": "postgresql",
                    "customer": DEMO_LARGE,
                    "products": 4000,
                    "rate_rps": args.rate,
                    "seconds_per_route": args.seconds,
                    "goal_p99_ms": GOAL_P99_MS,
                    "load": load_timings,
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "routes": results,
                },
                indent=2,
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        await admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
