"""Benchmark: sync each demo customer from the ERP simulator end to end (fetch, parse, validate).

    python bench/erp_sync.py [--runs 5] [--in-process]

Prints JSON. The baseline, measured in the same run, fetches the very same pages over HTTP
without parsing, mapping or validating them; `ratio` is sync time / baseline time. By default
the simulator runs in a child process so it does not share the GIL with the client.

The sync reads the weekly product activity (EDI 852) too: by default 52 weeks of it, as a
customer's first sync does. Two more figures, from the same run, show what it costs: the
incremental sync (`activity_since` = the latest complete week, as later syncs ask) and the
sync with a mapping that has no activity endpoint (the sync as it was before the 852).
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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from core.settings import Settings  # noqa: E402
from erp.client import ErpClient, activity_window_start, build_http_client  # noqa: E402
from erp.mapping import DEFAULT_MAPPING_FILE, EndpointName, ErpMapping  # noqa: E402
from erp.simulator.generator import DEMO_CUSTOMERS, DEMO_LARGE  # noqa: E402
from planning.models import PIPELINE_STATUSES  # noqa: E402

API_KEY, ADMIN_KEY = "bench-erp-key", "bench-erp-admin-key"
GOAL_SECONDS = 2.0
BUSINESS_DATES: dict[str, date] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def simulator(in_process: bool) -> Iterator[str]:
    if in_process:
        from erp.simulator.app import create_app
        from erp.simulator.server import ServerThread

        with ServerThread(create_app(api_key=API_KEY, admin_key=ADMIN_KEY)) as server:
            yield server.base_url
        return
    port = free_port()
    env = {
        **os.environ,
        "RESTOCK_ERP_API_KEY": API_KEY,
        "RESTOCK_ERP_ADMIN_KEY": ADMIN_KEY,
        "RESTOCK_ERP_SIM_DAYS_PER_MINUTE": "0",
    }
    argv = [sys.executable, "-m", "cli.main", "erp-sim", "--port", str(port)]
    child = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the ERP simulator did not start")
            time.sleep(0.2)
        yield base_url
    finally:
        child.terminate()
        child.wait(timeout=10)


async def fetch_raw(client: ErpClient, http: httpx.AsyncClient, code: str) -> int:
    """The baseline: the same pages the sync reads, as bytes only."""
    mapping = client.mapping
    spec = mapping.spec.pagination
    customer_url = client.base_url + mapping.path("customer", customer=code)
    headers = {mapping.spec.auth.header: API_KEY}
    await http.get(customer_url, headers=headers)
    window_start = BUSINESS_DATES[code] - timedelta(days=client.order_history_days)
    filters = mapping.spec.filters
    listings: list[tuple[EndpointName, dict[str, Any]]] = [
        ("products", {}),
        ("shipments", {}),
        ("orders", {filters.since_param: mapping.format_filter_date(window_start)}),
        (
            "orders",
            {
                filters.status_param or "": filters.status_separator.join(
                    sorted(mapping.status_codes[s] for s in PIPELINE_STATUSES)
                )
            },
        ),
    ]
    if mapping.has_activity:
        since = activity_window_start(BUSINESS_DATES[code])
        listings.append(("activity", {filters.since_param: mapping.format_filter_date(since)}))
    limit = asyncio.Semaphore(spec.concurrency)

    async def page(url: str, params: dict[str, Any], number: int) -> bytes:
        async with limit:
            response = await http.get(
                url,
                params={**params, spec.size_param: spec.page_size, spec.page_param: number},
                headers=headers,
            )
            return response.content

    async def listing(endpoint: EndpointName, params: dict[str, Any]) -> int:
        url = client.base_url + mapping.path(endpoint, customer=code)
        first = await page(url, params, spec.first_page)
        total = json.loads(first)[spec.total_pages]  # the page count is needed to go on
        rest = await asyncio.gather(
            *(page(url, params, n) for n in range(spec.first_page + 1, spec.first_page + total))
        )
        return len(first) + sum(len(body) for body in rest)

    sizes = await asyncio.gather(*(listing(e, p) for e, p in listings))
    return sum(sizes)


def mapping_without_activity() -> ErpMapping:
    data = yaml.safe_load(DEFAULT_MAPPING_FILE.read_text(encoding="utf-8"))
    del data["endpoints"]["activity"]
    return ErpMapping.from_dict(data, source="default without activity")


async def timed(job: Any) -> float:
    started = time.perf_counter()
    await job
    return time.perf_counter() - started


async def bench(base_url: str, runs: int) -> dict[str, Any]:
    settings = Settings(erp_base_url=base_url, erp_api_key=API_KEY, erp_timeout_seconds=60)
    results: dict[str, Any] = {}
    async with build_http_client(settings) as http:
        client = ErpClient(http, base_url=base_url, api_key=API_KEY)
        no_852 = ErpClient(
            http, base_url=base_url, api_key=API_KEY, mapping=mapping_without_activity()
        )
        for spec in DEMO_CUSTOMERS:
            code = spec.code
            started = time.perf_counter()
            snapshot = await client.sync_snapshot(code)  # generates the customer in the ERP
            cold = time.perf_counter() - started
            BUSINESS_DATES[code] = snapshot.erp_as_of
            latest_week = activity_window_start(snapshot.erp_as_of, weeks=1)
            syncs, fetches, incremental, without = [], [], [], []
            raw_bytes = 0
            for _ in range(runs):
                started = time.perf_counter()
                snapshot = await client.sync_snapshot(code)
                syncs.append(time.perf_counter() - started)
                started = time.perf_counter()
                raw_bytes = await fetch_raw(client, http, code)
                fetches.append(time.perf_counter() - started)
                since = client.sync_snapshot(code, activity_since=latest_week)
                incremental.append(await timed(since))
                without.append(await timed(no_852.sync_snapshot(code)))
            report = snapshot.data_quality
            rows = sum(report.rows_received.values()) + 1
            sync_s, fetch_s = statistics.median(syncs), statistics.median(fetches)
            without_s = statistics.median(without)
            results[code] = {
                "products": len(snapshot.products),
                "rows": rows,
                "activity_rows": report.rows_received.get("activity", 0),
                "bytes": raw_bytes,
                "first_sync_seconds": round(cold, 3),
                "sync_seconds_median": round(sync_s, 3),
                "rows_per_second": round(rows / sync_s),
                "baseline_fetch_seconds_median": round(fetch_s, 3),
                "ratio_sync_to_fetch": round(sync_s / fetch_s, 2),
                "incremental_sync_seconds_median": round(statistics.median(incremental), 3),
                "sync_without_activity_seconds_median": round(without_s, 3),
                "ratio_sync_to_without_activity": round(sync_s / without_s, 2),
                "ratio_incremental_to_without_activity": round(
                    statistics.median(incremental) / without_s, 2
                ),
                "data_quality_issues": report.issue_count,
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--in-process", action="store_true", help="serve from a thread")
    args = parser.parse_args()
    with simulator(args.in_process) as base_url:
        customers = asyncio.run(bench(base_url, args.runs))
    large = customers[DEMO_LARGE]["sync_seconds_median"]
    print(
        json.dumps(
            {
                "benchmark": "erp_sync",
                "runs": args.runs,
                "server": "thread" if args.in_process else "child process",
                "baseline": "same pages fetched as bytes, no parsing or validation",
                "customers": customers,
                "goal": {
                    "customer": DEMO_LARGE,
                    "seconds": GOAL_SECONDS,
                    "met": large < GOAL_SECONDS,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
