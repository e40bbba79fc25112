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
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import cpu_seconds, served_large_customer  # noqa: E402

from erp.simulator.generator import DEMO_LARGE  # noqa: E402

GOAL_P99_MS = 50.0


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

    async with served_large_customer() as served:
        c = f"/api/customers/{served.customer_id}"
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
            base_url=served.site,
            headers={"Authorization": f"Bearer {served.token}"},
            limits=limits,
            timeout=30,
        ) as client:
            for path in routes.values():  # warm-up: connections, caches, first query plans
                for _ in range(5):
                    await client.get(path)
            for label, path in routes.items():
                results[label] = await drive(
                    client, path, args.rate, args.seconds, served.server_pid
                )
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
                    "load": served.load_timings,
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "routes": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
