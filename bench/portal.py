"""Benchmark: server time of every portal page with the 4,000-product customer (PostgreSQL).

    python bench/portal.py [--requests 40]

Loads the large demo customer through the real path (ERP simulator -> sync -> recommend) into
a database of its own, records a cycle waiting for approval, serves the app with uvicorn in a
child process, logs in through the login form as the customer's buyer and as ops, then asks
for each page one request at a time. The server's time is read from the `Server-Timing`
header (the app's time up to the response headers; pages render fully before that); the
client's wall time per request is reported beside it. /healthz in the same run is the
baseline. Goal: each page's p95 server time under 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import machine_gauge_ms, served_large_customer  # noqa: E402

from erp.simulator.generator import DEMO_LARGE  # noqa: E402
from services.accounts import create_user  # noqa: E402
from store import cycles as cycles_repo  # noqa: E402
from store.db import create_engine, create_session_factory, unit_of_work  # noqa: E402
from store.models import Role, SnapshotProduct  # noqa: E402

GOAL_P95_MS = 150.0
BUYER_PASSWORD = "bench-password-123"  # set by harness.load
OPS_PASSWORD = "bench-ops-password-123"
SERVER_TIMING = re.compile(r"app;dur=([\d.]+)")


async def prepare(url: str, customer_id: int) -> str:
    """An ops user, the customer's waiting cycle; returns an at-risk product's code."""
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        async with unit_of_work(sessions) as session:
            await create_user(
                session,
                username="bench-ops",
                password=OPS_PASSWORD,
                role=Role.OPS,
                customer_id=None,
                actor="bench",
            )
            await cycles_repo.record_cycle(
                session,
                workflow_id=f"reorder-cycle-{customer_id}",
                customer_id=customer_id,
                status="awaiting_approval",
                recommendation_version=1,
            )
            code = await session.scalar(
                select(SnapshotProduct.code)
                .where(
                    SnapshotProduct.customer_id == customer_id,
                    SnapshotProduct.plan_status == "at_risk",
                )
                .order_by(SnapshotProduct.run_out_date)
            )
        assert code is not None, "the large demo customer has at-risk products"
        return code
    finally:
        await engine.dispose()


async def logged_in(base: str, username: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    response = await client.post("/login", data={"username": username, "password": password})
    if response.status_code != 303:
        raise RuntimeError(f"login as {username} failed: {response.status_code}")
    return client


async def measure(client: httpx.AsyncClient, path: str, requests: int) -> dict[str, Any]:
    for _ in range(3):  # warm-up: connection, first query plans, template compilation
        await client.get(path)
    server: list[float] = []
    wall: list[float] = []
    size = 0
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
        timing = SERVER_TIMING.search(response.headers.get("server-timing", ""))
        if timing is None:
            raise RuntimeError(f"{path}: no Server-Timing header")
        server.append(float(timing.group(1)))
        size = len(response.content)
    server.sort()
    wall.sort()
    p95 = server[min(len(server) - 1, int(len(server) * 0.95))]
    return {
        "requests": requests,
        "server_p50_ms": round(statistics.median(server), 1),
        "server_p95_ms": round(p95, 1),
        "server_max_ms": round(server[-1], 1),
        "wall_p50_ms": round(statistics.median(wall), 1),
        "response_bytes": size,
        "meets_goal": p95 < GOAL_P95_MS,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="per page, one at a time")
    args = parser.parse_args()

    async with served_large_customer() as served, contextlib.AsyncExitStack() as clients:
        customer_id, site = served.customer_id, served.site
        product = await prepare(served.database_url, customer_id)
        buyer = await logged_in(site, "bench-buyer", BUYER_PASSWORD)
        ops = await logged_in(site, "bench-ops", OPS_PASSWORD)
        anonymous = httpx.AsyncClient(base_url=site, timeout=30)
        for client in (buyer, ops, anonymous):
            clients.push_async_callback(client.aclose)
        c = f"/customers/{customer_id}"
        pages: dict[str, tuple[httpx.AsyncClient, str]] = {
            "baseline /healthz": (anonymous, "/healthz"),
            "login": (anonymous, "/login"),
            "dashboard": (buyer, c),
            "recommendation (100 lines)": (buyer, f"{c}/recommendation"),
            "recommendation (urgent only)": (buyer, f"{c}/recommendation?show=urgent"),
            "recommendation worksheet sorted + filtered": (
                buyer,
                f"{c}/recommendation?sort=cover_now&desc=true&show=pulled_forward&q=a",
            ),
            "recommendation sorted by quantity, page 5": (
                buyer,
                f"{c}/recommendation?sort=quantity&page=5",
            ),
            "recommendation XLSX export (every line)": (
                buyer,
                f"/api/customers/{customer_id}/recommendations/1/worksheet.xlsx",
            ),
            "products (page 1)": (buyer, f"{c}/products"),
            "products (search + filter + sort)": (
                buyer,
                f"{c}/products?q=coffee&status=at_risk&sort=cover",
            ),
            "product page with charts": (buyer, f"{c}/products/{product}"),
            "orders": (buyer, f"{c}/orders"),
            "ops console": (ops, "/ops"),
            "ops settings": (ops, f"/ops/customers/{customer_id}/settings"),
        }
        results = {
            label: await measure(client, path, args.requests)
            for label, (client, path) in pages.items()
        }
        baseline = results["baseline /healthz"]["server_p50_ms"]
        for result in results.values():
            result["p50_vs_baseline"] = (
                round(result["server_p50_ms"] / baseline, 1) if baseline else None
            )
        print(
            json.dumps(
                {
                    "benchmark": "portal",
                    "database": "postgresql",
                    "customer": DEMO_LARGE,
                    "products": 4000,
                    "goal_server_p95_ms": GOAL_P95_MS,
                    "all_pages_meet_goal": all(
                        r["meets_goal"]
                        for k, r in results.items()
                        if k != "baseline /healthz" and "export" not in k
                    ),
                    "goal_applies_to": "pages (not the baseline, not the file exports)",
                    "load": served.load_timings,
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "machine_gauge_ms": machine_gauge_ms(),
                    "pages": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
