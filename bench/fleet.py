"""Benchmark: a supplier's whole fleet reviewed at once, as their Schedules would start it.

    .venv/bin/python bench/fleet.py [--customers 1000] [--workers 1,2] [--faults]
        [--erp-rate N] [--variant NAME:RESTOCK_X=1,RESTOCK_Y=2 ...]

Adds generated customers to an ERP simulator of its own (a process, like `make run`'s):
90% small (~40 products), 9% medium (~400), 1% large (~4,000); creates them in a PostgreSQL
database of its own; starts the Temporal dev server (SQLite persistence, as `make run`).
Every customer's first sync is done before (in this process), so the runs measure the weekly
review of a supplier that has run Restock for a while; each run is a week later in the ERP.
Then, for each worker count, starts that many `worker.py` processes and every customer's
review at once, and waits until each waits for approval (or has nothing to order, or
failed). Measured per run: wall time, reviews per minute, worker CPU seconds per review and
peak RSS, Temporal history events per cycle, and what the ERP saw (requests per second,
the busiest second, the most in flight at once, by HTTP status) from the simulator's meter,
the cores each process used on average (`cores_by_process`: the workers, the dev server,
PostgreSQL, the ERP simulator, this bench, the rest) and what bound the run (the ERP's rate
limit, the cores, with those shares).

Baseline, same run: the same reviews' sync + plan (`services.sync.sync_customer`,
`services.recommend.recommend`) one after another in this process with no Temporal, with
CPU per review by size; `vs_baseline` is each run's wall time over the baseline's.

`--variant`: after the runs, one more one-worker run per variant with those settings in the
worker's environment (worker tuning: sticky cache, concurrency, pool size), in "variants".

`--faults`: 5% of ERP requests answered 429 with Retry-After, and a 30 s outage (503) once
half the reviews are waiting: every review must still get there, none failed, and each
customer has exactly one new recommendation version per run (none duplicated).
Progress goes to stderr; stdout carries the JSON only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    cpu_seconds,
    free_port,
    machine_gauge_ms,
    postgres_database,
    proc_stat,
    stdout_to_stderr,
)
from bench.worker_process import worker_process  # noqa: E402
from core.settings import Environment, Settings  # noqa: E402
from core.temporal import SEARCH_ATTRIBUTES, connect, temporal_cli_path  # noqa: E402
from erp.client import ErpClient, build_http_client  # noqa: E402
from services.cycle_control import cycle_workflow_id, start_cycle  # noqa: E402
from services.recommend import recommend  # noqa: E402
from services.sync import sync_customer  # noqa: E402
from store import customer_settings as settings_repo  # noqa: E402
from store.customers import upsert_customer  # noqa: E402
from store.db import create_engine, create_session_factory, unit_of_work  # noqa: E402
from store.migrate import upgrade_async  # noqa: E402
from store.models import RecommendationRecord  # noqa: E402
from worker import SHARE_EVERY_S  # noqa: E402
from workflows.contract import names  # noqa: E402

API_KEY, ADMIN_KEY = "bench-erp-key", "bench-erp-admin-key"
TASK_QUEUE = "bench-fleet"
GOAL_WALL_S = 300.0
WAITING = ("awaiting_approval", "nothing_to_order")
START_CONCURRENCY = 50


@dataclass(frozen=True)
class Size:
    name: str
    share: float
    products: int
    monthly_cartons: float
    container_cartons: int
    lead_time_weeks: int


SIZES = (
    Size("small", 0.90, 40, 14_000, 20_000, 6),
    Size("medium", 0.09, 400, 70_000, 90_000, 8),
    Size("large", 0.01, 4_000, 200_000, 90_000, 10),
)


@dataclass(frozen=True)
class Member:
    code: str
    size: Size
    customer_id: int = 0


def fleet(n: int) -> list[Member]:
    """`n` customers in the sizes' shares (at least one of each); large ones first, so the
    longest reviews are not the last to start."""
    counts = {s.name: max(1, round(n * s.share)) for s in SIZES[1:]}
    counts[SIZES[0].name] = max(1, n - sum(counts.values()))
    return [
        Member(f"F-{size.name[0].upper()}{i:04d}", size)
        for size in reversed(SIZES)
        for i in range(counts[size.name])
    ]


def say(message: str) -> None:
    print(f"[fleet {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@asynccontextmanager
async def erp_simulator(tmp: Path):  # type: ignore[no-untyped-def]
    """`restock erp-sim` in a process of its own, on a free port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "RESTOCK_ENV": "test",
        "RESTOCK_ERP_API_KEY": API_KEY,
        "RESTOCK_ERP_ADMIN_KEY": ADMIN_KEY,
        "RESTOCK_VAR_DIR": str(tmp),
    }
    log = (tmp / "erp-sim.log").open("w")
    restock = Path(sys.executable).parent / "restock"
    proc = await asyncio.create_subprocess_exec(
        str(restock),
        "erp-sim",
        "--port",
        str(port),
        "--no-keep",
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, headers={"X-Admin-Key": ADMIN_KEY}) as c:
            for _ in range(300):
                try:
                    if (await c.get("/admin/faults")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.returncode is not None:
                    raise RuntimeError(f"ERP simulator exited: {(tmp / 'erp-sim.log').read_text()}")
                await asyncio.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
        log.close()


async def add_fleet(
    admin: httpx.AsyncClient, settings: Settings, members: list[Member]
) -> list[Member]:
    """Each customer generated in the ERP simulator and created in the store."""
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    out: list[Member] = []
    try:
        for i, m in enumerate(members):
            response = await admin.post(
                "/admin/customers",
                json={
                    "code": m.code,
                    "name": f"Fleet {m.code}",
                    "n_products": m.size.products,
                    "seed": i,
                    "monthly_cartons": m.size.monthly_cartons,
                    "container_capacity_cartons": m.size.container_cartons,
                    "lead_time_weeks": m.size.lead_time_weeks,
                },
                timeout=120,
            )
            response.raise_for_status()
            async with unit_of_work(sessions) as session:
                customer = await upsert_customer(
                    session, erp_code=m.code, name=f"Fleet {m.code}", timezone="UTC"
                )
                await settings_repo.get_or_create(
                    session,
                    customer.id,
                    container_capacity_cartons=m.size.container_cartons,
                    lead_time_weeks=m.size.lead_time_weeks,
                )
            out.append(Member(m.code, m.size, customer.id))
            if (i + 1) % 100 == 0:
                say(f"{i + 1}/{len(members)} customers generated")
    finally:
        await engine.dispose()
    return out


async def warm_up(settings: Settings, members: list[Member]) -> float:
    """Every customer's first sync (its whole history), in this process: the runs measure
    the weekly review of a supplier that has run Restock for a while, which reads only
    what changed since (`services.sync`)."""
    engine = create_engine(settings.database_url)
    http = build_http_client(settings)
    erp = ErpClient(http, base_url=settings.erp_base_url, api_key=API_KEY)
    t0 = time.perf_counter()
    try:
        sessions = create_session_factory(engine)
        for i, m in enumerate(members):
            await sync_customer(sessions, erp, m.customer_id)
            if (i + 1) % 200 == 0:
                say(f"first sync: {i + 1}/{len(members)}")
    finally:
        await http.aclose()
        await engine.dispose()
    return time.perf_counter() - t0


async def baseline(settings: Settings, members: list[Member]) -> dict[str, Any]:
    """Every review's sync + plan one after another, in this process, no Temporal."""
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    http = build_http_client(settings)
    erp = ErpClient(http, base_url=settings.erp_base_url, api_key=API_KEY)
    cpu: dict[str, list[float]] = {s.name: [] for s in SIZES}
    wall: dict[str, list[float]] = {s.name: [] for s in SIZES}
    t0 = time.perf_counter()
    try:
        for i, m in enumerate(members):
            c0, w0 = time.process_time(), time.perf_counter()
            await sync_customer(sessions, erp, m.customer_id)
            await recommend(sessions, m.customer_id)
            cpu[m.size.name].append(time.process_time() - c0)
            wall[m.size.name].append(time.perf_counter() - w0)
            if (i + 1) % 100 == 0:
                say(f"baseline: {i + 1}/{len(members)} reviews")
    finally:
        await http.aclose()
        await engine.dispose()
    total = time.perf_counter() - t0
    return {
        "what": "sync + plan of every review one after another in one process, no Temporal",
        "wall_s": round(total, 1),
        "reviews_per_minute": round(60 * len(members) / total, 1),
        "cpu_s_per_review": {k: _mean(v) for k, v in cpu.items()},
        "wall_s_per_review": {k: _mean(v) for k, v in wall.items()},
    }


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of every core since boot (Linux /proc/stat)."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


def _processes() -> Iterator[Path]:
    return (entry for entry in Path("/proc").iterdir() if entry.name.isdigit())


def pids_named(command: str) -> list[int]:
    """Every process whose command name is `command` (Linux /proc; PostgreSQL's server and
    its backends are all `postgres`)."""
    found = []
    for entry in _processes():
        with contextlib.suppress(OSError):
            if (entry / "comm").read_text().strip() == command:
                found.append(int(entry.name))
    return found


def pid_running(binary: Path) -> int | None:
    """The process whose command line starts with `binary` (the dev server the SDK started)."""
    wanted = str(binary).encode()
    for entry in _processes():
        with contextlib.suppress(OSError):
            if (entry / "cmdline").read_bytes().split(b"\0", 1)[0] == wanted:
                return int(entry.name)
    return None


def process_groups(workers: list[int], services: dict[str, int]) -> dict[str, list[int]]:
    """What shares the cores during a run, by name: the workers, the dev server and the ERP
    simulator (`services`), PostgreSQL (whichever backends exist now) and this bench."""
    return {
        "workers": workers,
        **{name: [pid] for name, pid in services.items()},
        "postgresql": pids_named("postgres"),
        "this bench": [os.getpid()],
    }


def cpu_by_pid(groups: dict[str, list[int]]) -> dict[int, float]:
    """CPU seconds by process. PostgreSQL's postmaster (the `postgres` process whose parent
    is not one) counts with the backends it has reaped: those that closed during a run (a
    pool's overflow) took their own CPU with them."""
    postgres = set(groups.get("postgresql", []))

    def is_postmaster(pid: int) -> bool:
        fields = proc_stat(pid)
        return pid in postgres and fields is not None and int(fields[1]) not in postgres

    return {
        pid: cpu_seconds(pid, ended_children=is_postmaster(pid)) or 0.0
        for pids in groups.values()
        for pid in pids
    }


def cpu_by_group(before: dict[int, float], groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds each group used since `before` (a process begun meanwhile, such as a new
    PostgreSQL backend, from zero; a backend that existed at the start and closed during the
    run counts whole, through the postmaster)."""
    after = cpu_by_pid(groups)
    return {
        name: sum(after[pid] - before.get(pid, 0.0) for pid in pids)
        for name, pids in groups.items()
    }


def cores_by_process(
    used_s: dict[str, float], wall_s: float, machine_busy: float
) -> dict[str, float]:
    """Cores each group used on average over the run; `other` is the rest of the machine's
    busy time (the system, other processes)."""
    cores = {name: seconds / wall_s for name, seconds in used_s.items()}
    cores["other"] = max(machine_busy * (os.cpu_count() or 1) - sum(cores.values()), 0.0)
    return {name: round(n, 2) for name, n in cores.items()}


def bound_by(run: dict[str, Any], limit: float | None) -> list[str]:
    """What held the run back: the ERP's rate (requests near the limit) or the cores."""
    reasons = []
    if limit and run["erp"]["mean_requests_per_second"] >= 0.8 * limit:
        reasons.append(
            f"the ERP rate limit: {run['erp']['mean_requests_per_second']} requests/s on "
            f"average against {limit:g}"
        )
    if run["machine_cpu_busy"] >= 0.85:
        shares = ", ".join(
            f"{name} {cores}"
            for name, cores in sorted(run["cores_by_process"].items(), key=lambda kv: -kv[1])
        )
        reasons.append(
            f"the cores: {round(100 * run['machine_cpu_busy'])}% of {os.cpu_count()} busy, "
            f"in cores: {shares}"
        )
    return reasons or ["neither the ERP rate nor the cores: latency between the steps"]


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def counts(client: Client, since: str) -> Counter[str]:
    found: Counter[str] = Counter()
    base = f'WorkflowType = "{names.REORDER_CYCLE}" AND StartTime > "{since}"'
    for status in WAITING:
        found[status] = (await client.count_workflows(f'{base} AND CycleStatus = "{status}"')).count
    failed = 'CycleStatus = "failed" OR ExecutionStatus IN ("Failed", "TimedOut")'
    found["failed"] = (await client.count_workflows(f"{base} AND ({failed})")).count
    return found


async def fleet_run(
    client: Client,
    settings: Settings,
    admin: httpx.AsyncClient,
    members: list[Member],
    workers: int,
    tmp: Path,
    services: dict[str, int],
    *,
    faults: bool,
    variant: Variant | None = None,
) -> dict[str, Any]:
    # A week later in the ERP: every review reads new data and plans anew (a review of the
    # same inputs would reuse the last plan, `services.recommend`).
    (await admin.post("/admin/clock/advance", json={"days": 7}, timeout=600)).raise_for_status()
    since = datetime.now(UTC).isoformat()
    # A task queue per run: the workers of an earlier run are not counted as sharing the
    # ERP's rate (`worker.share_erp_rate`).
    queue = f"{TASK_QUEUE}-{workers}w" + (f"-{variant.name}" if variant else "")
    settings = settings.model_copy(update={"temporal_task_queue": queue})
    await admin.delete("/admin/traffic")
    fault_config = {"rate_limit_rate": 0.05, "retry_after_seconds": 1.0} if faults else {}
    await admin.put("/admin/faults", json=fault_config)
    outage_at: float | None = None
    async with AsyncExitStack() as stack:
        pids = [
            await stack.enter_async_context(
                worker_process(
                    settings,
                    tmp / f"worker-{workers}-{k}.log",
                    {
                        "RESTOCK_ERP_MAX_REQUESTS_PER_SECOND": str(
                            settings.erp_max_requests_per_second
                        ),
                        **(variant.env if variant else {}),
                    },
                )
            )
            for k in range(workers)
        ]
        await asyncio.sleep(SHARE_EVERY_S + 1)  # each worker knows its share of the ERP's rate
        cpu0 = cpu_by_pid(process_groups(pids, services))
        machine0 = machine_cpu()
        gate = asyncio.Semaphore(START_CONCURRENCY)

        async def start(m: Member) -> None:
            async with gate:
                await start_cycle(
                    client,
                    customer_id=m.customer_id,
                    customer_name=m.code,
                    task_queue=settings.temporal_task_queue,
                    started_by="bench-fleet",
                    erp_customer=m.code,
                )

        t0 = time.perf_counter()
        await asyncio.gather(*(start(m) for m in members))
        started_s = time.perf_counter() - t0
        say(f"{workers} worker(s): {len(members)} reviews started in {started_s:.1f} s")
        seen: Counter[str] = Counter()
        reported = 0.0
        while True:
            await asyncio.sleep(1.0)
            seen = await counts(client, since)
            done = seen["awaiting_approval"] + seen["nothing_to_order"]
            failed = seen["failed"]
            elapsed = time.perf_counter() - t0
            if faults and outage_at is None and done >= len(members) // 2:
                outage_at = elapsed
                await admin.put("/admin/faults", json={**fault_config, "outage_seconds": 30})
                say("ERP outage: 30 s of 503 from now")
            if elapsed - reported >= 10:
                reported = elapsed
                say(f"{workers} worker(s): {done}/{len(members)} waiting, {failed} failed")
            if done + failed >= len(members) or elapsed > 3 * GOAL_WALL_S:
                break
        wall_s = time.perf_counter() - t0
        machine1 = machine_cpu()
        machine_busy = (machine1[0] - machine0[0]) / max(machine1[1] - machine0[1], 1e-9)
        used_s = cpu_by_group(cpu0, process_groups(pids, services))
        cpu = used_s["workers"]
        rss = [peak_rss_mb(p) for p in pids]
        traffic = (await admin.get("/admin/traffic")).json()
        await admin.delete("/admin/faults")
        events = await history_lengths(client, members)
        await close_cycles(client, since)
    per_second = traffic.pop("per_second")
    done = seen["awaiting_approval"] + seen["nothing_to_order"]
    return {
        "workers": workers,
        **({"variant": variant.name, "worker_env": variant.env} if variant else {}),
        "reviews": len(members),
        "waiting_for_approval": seen["awaiting_approval"],
        "nothing_to_order": seen["nothing_to_order"],
        "failed": seen["failed"],
        "not_finished": len(members) - done - seen["failed"],
        "started_in_s": round(started_s, 1),
        "wall_s": round(wall_s, 1),
        "reviews_per_minute": round(60 * done / wall_s, 1),
        "worker_cpu_s_per_review": round(cpu / max(done, 1), 3),
        "worker_cpu_share_of_wall": round(cpu / wall_s, 2),
        "machine_cpu_busy": round(machine_busy, 2),
        "cores_by_process": cores_by_process(used_s, wall_s, machine_busy),
        "peak_worker_rss_mb": rss,
        "temporal_history_events_per_cycle": {
            "mean": _mean([float(e) for e in events]),
            "max": max(events, default=None),
        },
        "erp": {
            **traffic,
            "mean_requests_per_second": round(traffic["requests"] / max(len(per_second), 1), 1),
            "seconds_over_limit": sum(
                1 for n in per_second if n > (settings.erp_max_requests_per_second or 1e9)
            ),
        },
        "outage_started_at_s": None if outage_at is None else round(outage_at, 1),
    }


async def history_lengths(client: Client, members: list[Member]) -> list[int]:
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(m: Member) -> int:
        async with gate:
            handle = client.get_workflow_handle(cycle_workflow_id(m.customer_id))
            return (await handle.describe()).history_length

    return list(await asyncio.gather(*(one(m) for m in members)))


async def close_cycles(client: Client, since: str) -> None:
    """Terminate the run's open cycles, so the next run starts each customer afresh."""
    query = (
        f'WorkflowType = "{names.REORDER_CYCLE}" AND StartTime > "{since}" '
        'AND ExecutionStatus = "Running"'
    )
    ids = [w.id async for w in client.list_workflows(query)]
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def stop(workflow_id: str) -> None:
        async with gate:
            try:
                await client.get_workflow_handle(workflow_id).terminate("bench run over")
            except RPCError as err:
                # Listed as running, then closed before this (the list trails the cycles).
                if err.status is not RPCStatusCode.NOT_FOUND:
                    raise

    await asyncio.gather(*(stop(i) for i in ids))


async def versions_per_customer(settings: Settings) -> Counter[int]:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.execute(
                select(RecommendationRecord.customer_id, func.count()).group_by(
                    RecommendationRecord.customer_id
                )
            )
            return Counter({cid: n for cid, n in rows.all()})
    finally:
        await engine.dispose()


async def run(
    n: int,
    worker_counts: list[int],
    *,
    faults: bool,
    skip_baseline: bool,
    erp_rate: float | None = None,
    variants: list[Variant] | None = None,
) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="restock-fleet-"))
    async with postgres_database() as url, erp_simulator(tmp) as (erp_url, sim_pid):
        await upgrade_async(url)
        with stdout_to_stderr():  # the dev server's banner is not the bench's output
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(temporal_cli_path()),
                dev_server_database_filename=str(tmp / "temporal.db"),
                search_attributes=SEARCH_ATTRIBUTES,
                data_converter=pydantic_data_converter,
                dev_server_log_level="error",
            )
        services = {"ERP simulator": sim_pid}
        dev_server = pid_running(temporal_cli_path())
        if dev_server is not None:
            services["Temporal dev server"] = dev_server
        settings = Settings(
            env=Environment.TEST,
            database_url=url,
            temporal_address=env.client.service_client.config.target_host,
            temporal_task_queue=TASK_QUEUE,
            erp_base_url=erp_url,
            erp_api_key=API_KEY,
            erp_admin_key=ADMIN_KEY,
        )
        if erp_rate is not None:
            settings = settings.model_copy(update={"erp_max_requests_per_second": erp_rate})
        admin = httpx.AsyncClient(base_url=erp_url, headers={"X-Admin-Key": ADMIN_KEY}, timeout=60)
        try:
            t0 = time.perf_counter()
            members = await add_fleet(admin, settings, fleet(n))
            setup_s = time.perf_counter() - t0
            say(f"{len(members)} customers ready in {setup_s:.0f} s")
            first_sync_s = await warm_up(settings, members)
            client = await connect(settings)
            runs = []
            for workers in worker_counts:
                runs.append(
                    await fleet_run(
                        client, settings, admin, members, workers, tmp, services, faults=faults
                    )
                )
                say(f"{workers} worker(s): {runs[-1]['wall_s']} s")
            tried = []
            for v in variants or []:
                tried.append(
                    await fleet_run(
                        client, settings, admin, members, 1, tmp, services, faults=faults, variant=v
                    )
                )
                say(f"variant {v.name}: {tried[-1]['wall_s']} s")
            base = None
            if not skip_baseline:
                advanced = await admin.post("/admin/clock/advance", json={"days": 7}, timeout=600)
                advanced.raise_for_status()
                base = await baseline(settings, members)
            versions = await versions_per_customer(settings)
        finally:
            await admin.aclose()
            await env.shutdown()
    expected = len(worker_counts) + len(variants or []) + (0 if skip_baseline else 1)
    for r in [*runs, *tried]:
        r["bound_by"] = bound_by(r, settings.erp_max_requests_per_second)
        if base is not None:
            r["vs_baseline"] = round(r["wall_s"] / base["wall_s"], 2)
        r["meets_goal"] = (
            r["wall_s"] <= GOAL_WALL_S
            and r["failed"] == 0
            and r["not_finished"] == 0
            and r["erp"]["seconds_over_limit"] == 0
        )
    if len(runs) > 1:
        first = runs[0]["reviews_per_minute"]
        for r in runs[1:]:
            r["throughput_vs_one_worker"] = round(r["reviews_per_minute"] / first, 2)
    sizes = Counter(m.size.name for m in members)
    return {
        "benchmark": "fleet",
        "customers": dict(sizes),
        "products": sum(m.size.products for m in members),
        "database": "postgresql",
        "temporal": "dev server, SQLite persistence",
        "erp_limits": {
            "max_requests_per_second": settings.erp_max_requests_per_second,
            "max_concurrent_calls_per_worker": settings.erp_max_concurrent_calls,
        },
        "faults": "5% of ERP requests 429, a 30 s outage mid-run" if faults else None,
        "setup_s": round(setup_s, 1),
        "first_sync_s": round(first_sync_s, 1),
        "runs_are": "weekly reviews: each run (and the baseline) a week later in the ERP than "
        "the one before, after every customer's first sync",
        "goal": {"wall_s": GOAL_WALL_S, "failed": 0},
        "runs": runs,
        "variants": tried,
        "baseline": base,
        "recommendation_versions_per_customer": {
            "expected": expected,
            "customers_with_other": sum(
                1 for m in members if versions.get(m.customer_id, 0) != expected
            ),
        },
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "machine_gauge_ms": machine_gauge_ms(),
    }


@dataclass(frozen=True)
class Variant:
    """One worker run with settings of its own: `name:KEY=VALUE,KEY=VALUE`."""

    name: str
    env: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> Variant:
        name, _, pairs = text.partition(":")
        env = dict(pair.split("=", 1) for pair in pairs.split(",") if pair)
        if not name or not all(k.startswith("RESTOCK_") for k in env):
            raise argparse.ArgumentTypeError(f"--variant NAME:RESTOCK_X=1,...: not {text!r}")
        return cls(name, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument("--faults", action="store_true", help="429s and an outage mid-run")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--erp-rate",
        type=float,
        default=None,
        help="RESTOCK_ERP_MAX_REQUESTS_PER_SECOND for the workers (default: the setting's)",
    )
    parser.add_argument(
        "--variant",
        type=Variant.parse,
        action="append",
        default=[],
        help="after the runs, one worker with these settings, e.g. "
        "cache100:RESTOCK_WORKER_MAX_CACHED_WORKFLOWS=100 (repeatable)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    counts_ = [int(w) for w in args.workers.split(",")]
    result = asyncio.run(
        run(
            args.customers,
            counts_,
            faults=args.faults,
            skip_baseline=args.skip_baseline,
            erp_rate=args.erp_rate,
            variants=args.variant,
        )
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
