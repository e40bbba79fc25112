"""Benchmark: the customer API's read routes on PostgreSQL with the 4,000-product customer.

    python bench/api.py [--rate 100] [--seconds 10]

Creates a database of its own on RESTOCK_TEST_POSTGRES_URL's server (default
postgresql+asyncpg://postgres@127.0.0.1:5432/test), loads the large demo customer through the
real path (ERP simulator -> sync_customer -> recommend), serves the app with uvicorn on
loopback in a child process, then drives each route open-loop at a fixed rate with concurrent
clients. Prints JSON per route: offered and achieved rate, p50/p99 latency (from each request's
scheduled start), server and load-generator CPU per request, and p99 as a ratio of the
baseline (/healthz at the same rate, same run). Goals at 100 req/s: p99 < 50 ms
(`meets_goal`) and at most 3 ms of server CPU per request (`meets_cpu_goal`). The machine's
load average and speed (`machine_gauge_ms`, harness.machine_gauge_ms) are printed too: the
cores are shared, so run it more than once.

    python bench/api.py --observability [--rounds 5]

measures what the request metrics and the traces cost instead: three servers on the same
database, one with RESTOCK_REQUEST_METRICS=false and no tracing (the baseline), one with the
metrics (the default), one with metrics and every trace exported by OTLP to a sink on
loopback, one keeping a tenth of the traces (RESTOCK_OTLP_SAMPLE_RATIO=0.1);
each driven in turn, round after round, on `/api/me` (authenticated, cheap: the overhead is
most of its cost) and the dashboard. Prints each mode's median server CPU per request and the
difference from the one before. Goal: each costs under 0.5 ms of CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import (  # noqa: E402
    Served,
    cpu_seconds,
    free_port,
    machine_gauge_ms,
    serve,
    served_large_customer,
    wait_ready,
)

from erp.simulator.generator import DEMO_LARGE  # noqa: E402

GOAL_P99_MS = 50.0
GOAL_SERVER_CPU_MS = 3.0
GOAL_OBSERVABILITY_CPU_MS = 0.5


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
    kinds: dict[str, int] = {}
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
                kinds[str(response.status_code)] = kinds.get(str(response.status_code), 0) + 1
        except httpx.HTTPError as err:
            errors += 1
            kinds[type(err).__name__] = kinds.get(type(err).__name__, 0) + 1
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
        "error_kinds": kinds,
        "offered_rps": rate,
        "achieved_rps": round((total - errors) / elapsed, 1),
        "server_cpu_ms_per_request": server_cpu,
        "client_cpu_ms_per_request": round((client_cpu1 - client_cpu0) * 1000 / total, 2),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "max_ms": round(latencies[-1], 2),
    }


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps nothing: 200 and an empty ExportTraceServiceResponse."""

    spans = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = ExportTraceServiceRequest.FromString(body)
        type(self).spans += sum(
            len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def otlp_sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@asynccontextmanager
async def another_server(served: Served, env: dict[str, str]) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    process = serve(served.database_url, port, env)
    try:
        site = f"http://127.0.0.1:{port}"
        await wait_ready(site)
        yield site, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


async def observability(served: Served, rate: float, seconds: float, rounds: int) -> None:
    c = f"/api/customers/{served.customer_id}"
    routes = {"me": "/api/me", "dashboard": f"{c}/dashboard"}
    with otlp_sink() as sink:
        async with (
            another_server(served, {"RESTOCK_REQUEST_METRICS": "false"}) as off,
            another_server(served, {}) as metrics,
            another_server(served, {"RESTOCK_OTLP_ENDPOINT": sink}) as traced,
            another_server(
                served, {"RESTOCK_OTLP_ENDPOINT": sink, "RESTOCK_OTLP_SAMPLE_RATIO": "0.1"}
            ) as sampled,
        ):
            modes = {
                "off": off,
                "metrics": metrics,
                "metrics+traces": traced,
                "metrics+traces 10%": sampled,
            }
            cpu: dict[str, dict[str, list[float]]] = {r: {m: [] for m in modes} for r in routes}
            p99: dict[str, dict[str, list[float]]] = {r: {m: [] for m in modes} for r in routes}
            errors: dict[str, dict[str, int]] = {r: {} for r in routes}
            for _ in range(rounds):
                for mode, (site, pid) in modes.items():
                    async with httpx.AsyncClient(
                        base_url=site,
                        headers={"Authorization": f"Bearer {served.token}"},
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                        timeout=30,
                    ) as client:
                        for route, path in routes.items():
                            for _ in range(5):
                                await client.get(path)
                            result = await drive(client, path, rate, seconds, pid)
                            for kind, n in result["error_kinds"].items():
                                errors[route][f"{mode}: {kind}"] = (
                                    errors[route].get(f"{mode}: {kind}", 0) + n
                                )
                            cpu[route][mode].append(result["server_cpu_ms_per_request"])
                            p99[route][mode].append(result["p99_ms"])
        report: dict[str, Any] = {}
        for route in routes:
            median = {m: round(statistics.median(v), 3) for m, v in cpu[route].items()}
            metrics_cost = round(median["metrics"] - median["off"], 3)
            traces_cost = round(median["metrics+traces"] - median["metrics"], 3)
            sampled_cost = round(median["metrics+traces 10%"] - median["metrics"], 3)
            report[route] = {
                "server_cpu_ms_per_request_median": median,
                "server_cpu_ms_per_request_runs": cpu[route],
                "p99_ms_median": {m: round(statistics.median(v), 2) for m, v in p99[route].items()},
                "metrics_cost_cpu_ms": metrics_cost,
                "traces_cost_cpu_ms": traces_cost,
                "traces_10pct_cost_cpu_ms": sampled_cost,
                "errors": errors[route],
                "meets_goal": max(metrics_cost, traces_cost) < GOAL_OBSERVABILITY_CPU_MS
                and not errors[route],
            }
        print(
            json.dumps(
                {
                    "benchmark": "api-observability",
                    "rate_rps": rate,
                    "seconds_per_run": seconds,
                    "rounds": rounds,
                    "goal_cost_cpu_ms": GOAL_OBSERVABILITY_CPU_MS,
                    "spans_exported": _Sink.spans,
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "machine_gauge_ms": machine_gauge_ms(),
                    "routes": report,
                },
                indent=2,
            )
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="per route")
    parser.add_argument(
        "--observability", action="store_true", help="the cost of request metrics and traces"
    )
    parser.add_argument("--rounds", type=int, default=5, help="with --observability")
    args = parser.parse_args()

    async with served_large_customer() as served:
        if args.observability:
            await observability(served, args.rate, args.seconds, args.rounds)
            return
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
            cpu = result["server_cpu_ms_per_request"]
            result["meets_cpu_goal"] = None if cpu is None else cpu <= GOAL_SERVER_CPU_MS
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
                    "goal_server_cpu_ms": GOAL_SERVER_CPU_MS,
                    "load": served.load_timings,
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "machine_gauge_ms": machine_gauge_ms(),
                    "routes": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
