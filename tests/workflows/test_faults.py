"""Fault tests of the reorder cycle on the real dev server and the ERP simulator over HTTP.

Each test drives a cycle into a fault (a killed worker, an ERP outage, a slow ERP, a business
rejection, racing approvals, stale approvals, a restarted Temporal server) and checks that the
ERP ends up holding exactly one order per approved container — or none where the approval must
be refused. Each reports its figure through the `figure` fixture (terminal summary and
test-artifacts/fault-figures.json).

The two heaviest tests (a worker process killed with SIGKILL, a Temporal server restarted) run
on SQLite only: what they exercise is Temporal's and the ERP's, and the database layer is the
same code on both backends, which the other tests cover.

Submissions use a short attempt timeout (`CyclePolicy.submit_attempt_timeout`) so that a lost
attempt is retried within seconds instead of the production 30 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.notifier import LogNotifier
from core.errors import Conflict, RestockError
from core.settings import Settings
from core.temporal import SEARCH_ATTRIBUTES, temporal_cli_path
from services.cycle_control import cycle_handle, send_update
from store import customer_settings as settings_repo
from store.db import unit_of_work
from store.models import AuditEntry, Order
from tests.conftest import signed_updates
from tests.plugins.erp_sim import ErpSim, start_erp_sim
from tests.plugins.ports import free_port
from tests.workflows.conftest import FAST_POLICY, CycleStack, terminate_open_workflows
from worker import running_worker
from workflows.contract import names
from workflows.contract.cycle import (
    ApproveRequest,
    ApproveResult,
    CyclePolicy,
    CycleState,
    CycleStatus,
    OpsRequest,
    RefreshRequest,
)
from workflows.contract.shipment import ShipmentStatus
from workflows.shipment import CHECK_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
ATTEMPT = timedelta(seconds=2)
FAULT_POLICY = FAST_POLICY.model_copy(update={"submit_attempt_timeout": ATTEMPT})
SLOW = 3.5  # seconds of ERP latency: longer than an attempt, shorter than the HTTP timeout (5 s)
# The kill test must kill the worker between the last submission reaching the ERP and its
# attempt timing out (the approval then answers): a window of one attempt, so a long one.
KILL_ATTEMPT = timedelta(seconds=4)
KILL_POLICY = FAULT_POLICY.model_copy(update={"submit_attempt_timeout": KILL_ATTEMPT})
KILL_SLOW = 4.5  # longer than its attempt, shorter than the HTTP timeout
KILL_TRIES = 3  # a machine that stalls past the window makes a try test nothing: try again
REQUEST_COUNTER = 10_000  # `times` of a fault used to count submit requests

Figure = Callable[..., dict[str, Any]]
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# --- helpers --------------------------------------------------------------------------------


async def awaiting(stack: CycleStack, policy: CyclePolicy = FAULT_POLICY) -> tuple[int, str, int]:
    """A new customer's cycle waiting for approval: (customer id, ERP code, version)."""
    customer_id, erp_code = await stack.new_customer()
    await stack.start(customer_id, policy)
    state = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None and state.recommendation.containers, state
    return customer_id, erp_code, state.recommendation.version


async def approve(
    stack: CycleStack, customer_id: int, version: int, *, client: Client | None = None, **kw: Any
) -> ApproveResult:
    result: ApproveResult = await send_update(
        client or stack.client,
        customer_id,
        names.APPROVE,
        ApproveRequest(version=version, actor="buyer"),
        **kw,
    )
    return result


async def one_order_per_container(
    stack: CycleStack, erp_code: str, state: CycleState
) -> list[dict[str, Any]]:
    """The ERP holds exactly the cycle's orders: one submission per idempotency key, unique
    order numbers, each matching what the cycle and our database recorded."""
    submissions = await stack.submissions(erp_code)
    keys = sorted(o.idempotency_key for o in state.orders)
    assert sorted(s["idempotency_key"] for s in submissions) == keys, submissions
    numbers = [s["order_number"] for s in submissions]
    assert len(set(numbers)) == len(numbers) == len(state.orders), submissions
    by_key = {s["idempotency_key"]: s["order_number"] for s in submissions}
    assert {o.idempotency_key: o.erp_order_number for o in state.orders} == by_key
    async with stack.sessions() as session:
        rows = list(
            await session.scalars(
                select(Order).where(
                    Order.customer_id == state.customer_id, Order.source == "restock"
                )
            )
        )
    assert {o.idempotency_key: o.erp_order_number for o in rows} == by_key
    return submissions


async def submit_requests(stack: CycleStack) -> int:
    """Submit requests the ERP has seen since a counting fault (`times=REQUEST_COUNTER`) was set."""
    async with stack.admin() as admin:
        response = await admin.get("/admin/faults")
    response.raise_for_status()
    remaining = response.json()["remaining_requests"]
    return REQUEST_COUNTER - (remaining if remaining is not None else REQUEST_COUNTER)


async def submit_attempts(stack: CycleStack, customer_id: int) -> dict[int, int]:
    """Per approved order, the attempts its submission took, from the workflow history: the
    first one, made inside the approval (the `approve_and_submit` local activity), plus the
    attempt of the retried `submit_order` activity that completed it, if it needed one. An
    attempt that outlived its timeout may still write our database; only completions count."""
    history = await cycle_handle(stack.client, customer_id).fetch_history()
    attempts: dict[int, int] = {}
    submits: dict[int, int] = {}  # scheduled event id → order id
    started: dict[int, int] = {}
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            outcome = local_activity_result(event, "approve_and_submit")
            for first in outcome["submissions"] if outcome else []:
                attempts[first["order_id"]] = 1
        elif event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == "submit_order":
                submits[event.event_id] = json.loads(attrs.input.payloads[0].data)["order_id"]
        elif event.HasField("activity_task_started_event_attributes"):
            started[event.event_id] = event.activity_task_started_event_attributes.attempt
        elif event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            if done.scheduled_event_id in submits:
                order_id = submits[done.scheduled_event_id]
                attempts[order_id] = attempts.get(order_id, 0) + started[done.started_event_id]
    return attempts


def local_activity_result(event: HistoryEvent, activity_type: str) -> dict[str, Any] | None:
    """The result of a completed local activity of `activity_type` recorded by this marker."""
    details = event.marker_recorded_event_attributes.details
    if "data" not in details or "result" not in details:
        return None
    data = json.loads(details["data"].payloads[0].data)
    if data.get("activity_type") != activity_type:
        return None
    result: dict[str, Any] = json.loads(details["result"].payloads[0].data)
    return result


async def poll(check: Callable[[], Any], what: str, attempts: int = 300) -> Any:
    """Await `check()` every 50 ms until it returns something truthy."""
    for _ in range(attempts):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {what}")


# --- 1. the worker killed around the submission -------------------------------------------


class WorkerProcess:
    """`python worker.py` as production runs it, killed and restarted by the test."""

    def __init__(self, settings: Settings, task_queue: str, log: Path) -> None:
        self.env = {
            **os.environ,
            "RESTOCK_ENV": "test",
            "RESTOCK_DATABASE_URL": settings.database_url,
            "RESTOCK_TEMPORAL_ADDRESS": settings.temporal_address,
            "RESTOCK_TEMPORAL_TASK_QUEUE": task_queue,
            "RESTOCK_ERP_BASE_URL": settings.erp_base_url,
            "RESTOCK_ERP_API_KEY": settings.erp_api_key,
            "RESTOCK_ERP_ADMIN_KEY": settings.erp_admin_key,
            "RESTOCK_ERP_TIMEOUT_SECONDS": str(settings.erp_timeout_seconds),
            "PYTHONUNBUFFERED": "1",
        }
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    async def start(self) -> None:
        self.starts += 1
        marker = f"=== start {self.starts}\n"
        with self.log.open("a") as out:
            out.write(marker)
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "worker.py"), env=self.env, cwd=ROOT,
                stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip

        async def polling() -> bool:
            assert self.proc is not None
            if self.proc.returncode is not None:
                raise AssertionError(f"worker exited early:\n{self.log.read_text()}")
            return "worker polling" in self.log.read_text().rsplit(marker, 1)[-1]

        await poll(polling, "the worker polling", attempts=1200)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.kills += 1

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@pytest.fixture
async def process_stack(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
    tmp_path: Path,
) -> AsyncIterator[tuple[CycleStack, WorkerProcess]]:
    """A cycle stack whose worker is a separate process (no worker in the test process), on an
    ERP simulator of its own: the test moves that ERP's clock to deliver its orders."""
    erp_sim = start_erp_sim()
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
    )
    worker = WorkerProcess(settings, task_queue, tmp_path / "worker.log")
    stack = CycleStack(temporal_client, settings, sessions, task_queue, erp_sim, LogNotifier())
    await worker.start()
    try:
        yield stack, worker
    finally:
        erp_sim.reset_faults()
        await terminate_open_workflows(temporal_client, task_queue)
        await worker.stop()
        erp_sim.server.stop()


@SQLITE_ONLY
async def test_worker_killed_around_the_submission_leaves_one_order_per_container(
    process_stack: tuple[CycleStack, WorkerProcess], figure: Figure
) -> None:
    stack, worker = process_stack
    points = {
        # The ERP holds the request before taking it; the worker dies meanwhile.
        "before_erp_processed": {"latency_after_processing": False},
        # The ERP stored the order and delays its answer; the worker dies meanwhile.
        "after_erp_accepted": {"latency_after_processing": True},
    }
    rows: dict[str, Any] = {}
    missed: list[str] = []
    for point, fault in points.items():
        for _ in range(KILL_TRIES):
            customer_id, erp_code, version = await awaiting(stack, KILL_POLICY)
            state = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
            assert state.recommendation is not None
            n = len(state.recommendation.containers)
            stack.erp_sim.set_faults(
                endpoints=["submit"], latency_seconds=KILL_SLOW, times=n, **fault
            )
            # The approval submits (first attempts) before it answers: under way at the kill.
            approval = asyncio.create_task(approve(stack, customer_id, version))

            async def all_arrived() -> bool:
                async with stack.admin() as admin:
                    status = (await admin.get("/admin/faults")).json()
                return status["remaining_requests"] is None  # the n held requests all came in

            async def all_stored(code: str = erp_code, want: int = n) -> bool:
                return len(await stack.submissions(code)) == want

            if fault["latency_after_processing"]:
                await poll(all_stored, "the ERP storing every container's order")
            else:
                await poll(all_arrived, "every submission reaching the ERP")
                stored_at_kill = len(await stack.submissions(erp_code))
                assert stored_at_kill == 0, "the ERP was to hold the requests before taking them"
            if not approval.done():
                break
            # The machine stalled past the attempt's timeout: the approval answered before
            # the kill, so this try tests nothing. Let it finish, deliver, and try again.
            missed.append(point)
            await approval
            finished = await stack.wait_for(customer_id, CycleStatus.SUBMITTED)
            await stack.advance_erp(days=7 * 12)
            await stack.wait_shipments(finished, ShipmentStatus.DELIVERED)
            stack.erp_sim.reset_faults()
        else:
            raise AssertionError(f"the kill never came before the approval answered: {missed}")
        await worker.kill()
        await worker.start()
        result = await approval  # the server hands the approval to the restarted worker
        keys = {o.idempotency_key for o in result.orders}
        done = await stack.wait_for(customer_id, CycleStatus.SUBMITTED)
        # Deliver this cycle's orders before the next kill, so that no shipment's activity
        # is on the worker when it dies.
        await stack.advance_erp(days=7 * 12)
        shipments = await stack.wait_shipments(done, ShipmentStatus.DELIVERED)
        submissions = await one_order_per_container(stack, erp_code, done)
        assert {s["idempotency_key"] for s in submissions} == keys
        assert len(shipments) == n
        requests = sorted(s["requests"] for s in submissions)
        if fault["latency_after_processing"]:
            # The ERP took every container before the kill; the restarted worker sent each
            # again with the same key and got the stored order back.
            assert requests == [2] * n, requests
        retried_tasks = await workflow_task_timeouts(stack, customer_id)
        assert retried_tasks >= 1, "the killed worker's workflow task was never timed out"
        rows[point] = {
            "containers": n,
            "erp_orders": len(submissions),
            "requests_per_key": requests,
            "workflow_tasks_timed_out": retried_tasks,
            "status": done.status.value,
        }
    figure(kills=worker.kills, cycles_completed=len(rows), tries_missed=missed, **rows)


async def workflow_task_timeouts(stack: CycleStack, customer_id: int) -> int:
    history = await cycle_handle(stack.client, customer_id).fetch_history()
    return sum(e.HasField("workflow_task_timed_out_event_attributes") for e in history.events)


async def shipment_check_timeouts(stack: CycleStack, workflow_id: str) -> int:
    """Attempts of the shipment's `check_shipment` that were started again after an earlier
    attempt timed out (its worker died)."""
    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    return sum(
        1
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.last_failure.HasField("timeout_failure_info")
    )


@SQLITE_ONLY
async def test_worker_killed_while_a_shipment_polls_it_resumes(
    process_stack: tuple[CycleStack, WorkerProcess], figure: Figure
) -> None:
    """A shipment's check is held by the ERP when the worker dies: Temporal hands the check to
    the restarted worker after its timeout, and the shipment follows its order to delivery."""
    stack, worker = process_stack
    customer_id, erp_code, version = await awaiting(stack)
    await approve(stack, customer_id, version)
    done = await stack.wait_for(customer_id, CycleStatus.SUBMITTED)
    await stack.wait_shipments(done, ShipmentStatus.AWAITING_SHIPMENT)
    # The next order-status request is held by the ERP; the worker dies while it waits.
    stack.erp_sim.set_faults(endpoints=["order"], latency_seconds=20.0, times=1)

    async def held() -> bool:
        async with stack.admin() as admin:
            return (await admin.get("/admin/faults")).json()["remaining_requests"] is None

    await poll(held, "a shipment's check reaching the ERP")
    await worker.kill()
    stack.erp_sim.reset_faults()
    killed_at = asyncio.get_running_loop().time()
    await worker.start()
    await stack.advance_erp(days=7 * 12)
    delivered = await stack.wait_shipments(done, ShipmentStatus.DELIVERED, attempts=1200)
    resumed_after = asyncio.get_running_loop().time() - killed_at
    timed_out = [await shipment_check_timeouts(stack, s.workflow_id) for s in delivered]
    assert sum(timed_out) >= 1, "no shipment's check was handed to the restarted worker"
    figure(
        shipments=len(delivered),
        check_start_to_close_s=CHECK_TIMEOUT.total_seconds(),
        checks_timed_out=sum(timed_out),
        kill_to_delivered_s=round(resumed_after, 1),
        erp_orders=len(await stack.submissions(erp_code)),
    )


# --- 2. ERP outage during the submission -------------------------------------------------


async def _order_reasons(stack: CycleStack, order_ids: list[int]) -> list[str | None]:
    async with stack.sessions() as session:
        query = select(Order.id, Order.failure_reason).where(Order.id.in_(order_ids))
        reasons = {order_id: reason for order_id, reason in await session.execute(query)}
    return [reasons[i] for i in order_ids]


async def test_erp_outage_during_submission_then_recovery_lands_each_order_once(
    cycle_stack: CycleStack, figure: Figure
) -> None:
    customer_id, erp_code, version = await awaiting(cycle_stack)
    outage = 3.0
    with cycle_stack.erp_sim.faults(
        endpoints=["submit"], outage_seconds=outage, times=REQUEST_COUNTER
    ):
        approved = await approve(cycle_stack, customer_id, version)
        # The buyer is told why the orders are not with the ERP yet, and what happens next.
        assert {o.status for o in approved.orders} == {"approved"}, approved.orders
        reasons = await _order_reasons(cycle_stack, [o.order_id for o in approved.orders])
        assert all("503" in r and "retried with the same idempotency key" in r for r in reasons), (
            reasons
        )
        assert [o.failure for o in approved.orders] == reasons
        state = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMITTED)
        requests = await submit_requests(cycle_stack)
    submissions = await one_order_per_container(cycle_stack, erp_code, state)
    attempts = await submit_attempts(cycle_stack, customer_id)
    assert all(a >= 2 for a in attempts.values()), attempts  # each first attempt met the outage
    assert [s["requests"] for s in submissions] == [1] * len(submissions)
    assert await _order_reasons(cycle_stack, [o.order_id for o in state.orders]) == [None] * len(
        state.orders
    )  # landed: the reason is gone
    figure(
        outage_seconds=outage,
        buyer_saw=reasons[0],
        containers=len(state.orders),
        submit_requests=requests,
        attempts=sorted(attempts.values()),
        erp_orders=len(submissions),
    )


# --- 3. ERP slower than the attempt timeout -----------------------------------------------


@pytest.mark.parametrize("after_processing", [False, True], ids=["slow_before", "slow_after"])
async def test_erp_slower_than_the_attempt_timeout_still_one_order(
    cycle_stack: CycleStack, figure: Figure, after_processing: bool
) -> None:
    customer_id, erp_code, version = await awaiting(cycle_stack)
    state = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None
    n = len(state.recommendation.containers)
    with cycle_stack.erp_sim.faults(
        endpoints=["submit"],
        latency_seconds=SLOW,
        latency_after_processing=after_processing,
        times=n,  # every container's first attempt is slow
    ):
        await approve(cycle_stack, customer_id, version)
        state = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMITTED)
    submissions = await one_order_per_container(cycle_stack, erp_code, state)
    attempts = await submit_attempts(cycle_stack, customer_id)
    assert len(attempts) == n and all(a >= 2 for a in attempts.values()), attempts
    figure(
        latency_seconds=SLOW,
        attempt_timeout_seconds=ATTEMPT.total_seconds(),
        containers=n,
        attempts=sorted(attempts.values()),
        requests_per_key=sorted(s["requests"] for s in submissions),
        erp_orders=len(submissions),
    )


# --- 4. business rejection, then ops retry ------------------------------------------------


async def test_business_rejection_is_not_retried_and_ops_retry_lands_it_once(
    cycle_stack: CycleStack, figure: Figure
) -> None:
    customer_id, erp_code, version = await awaiting(cycle_stack)
    cycle_stack.erp_sim.set_faults(
        endpoints=["submit"],
        reject_code="E_CREDIT_LIMIT",
        reject_message="credit limit exceeded",
        times=REQUEST_COUNTER,
    )
    try:
        result = await approve(cycle_stack, customer_id, version)
        failed = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMISSION_FAILED)
        message = await cycle_stack.wait_notified("Order submission failed")
        # Give a retry storm the chance to show (ERP_RETRY would retry after 1 s).
        await asyncio.sleep(2.5)
        requests = await submit_requests(cycle_stack)
    finally:
        cycle_stack.erp_sim.reset_faults()
    n = len(result.orders)
    assert requests == n, f"{requests} submit requests for {n} containers"
    assert {o.status for o in failed.orders} == {"failed"}
    assert all("E_CREDIT_LIMIT" in (o.failure or "") for o in failed.orders), failed.orders
    assert "E_CREDIT_LIMIT" in message.body and failed.workflow_id in message.body
    assert await cycle_stack.submissions(erp_code) == []

    await send_update(
        cycle_stack.client, customer_id, names.RETRY, OpsRequest(actor="ops", reason="fixed")
    )
    tracking = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMITTED)
    submissions = await one_order_per_container(cycle_stack, erp_code, tracking)
    assert all(o.idempotency_key.endswith(":r1") for o in tracking.orders), tracking.orders
    assert {o.idempotency_key.removesuffix(":r1") for o in tracking.orders} == {
        o.idempotency_key for o in result.orders
    }
    assert [s["requests"] for s in submissions] == [1] * n
    figure(
        containers=n,
        rejected_submit_requests=requests,
        status_after_rejection=failed.status.value,
        ops_notified=True,
        erp_orders_after_retry=len(submissions),
        keys=[s["idempotency_key"].rsplit(":", 2)[-2:] for s in submissions],
    )


# --- 4b. a garbled answer is an unknown outcome, not a refusal -------------------------


@pytest.mark.parametrize("garbled", ["first_attempt", "retried_attempt"])
async def test_a_garbled_submit_answer_is_retried_with_the_same_key_one_order_each(
    cycle_stack: CycleStack, figure: Figure, garbled: str
) -> None:
    """The ERP stores each order but its answer cannot be read (once, or twice running):
    the outcome is unknown, so the same key is sent again and the ERP answers with the order
    it has. Never a refusal, never a new key, never a second order (an ops retry of a
    'rejected' container used to make one)."""
    customer_id, erp_code, version = await awaiting(cycle_stack)
    state = await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None
    n = len(state.recommendation.containers)
    times = n if garbled == "first_attempt" else 2 * n
    with cycle_stack.erp_sim.faults(endpoints=["submit"], malformed_rate=1.0, times=times):
        result = await approve(cycle_stack, customer_id, version)
        assert all(o.status == "approved" and o.failure for o in result.orders), result.orders
        assert all("could not be read" in (o.failure or "") for o in result.orders)
        done = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMITTED)
    submissions = await one_order_per_container(cycle_stack, erp_code, done)
    assert {o.idempotency_key for o in done.orders} == {o.idempotency_key for o in result.orders}
    assert not any(":r" in o.idempotency_key.rsplit(":c", 1)[1] for o in done.orders)
    requests = sorted(s["requests"] for s in submissions)
    assert all(r >= (2 if garbled == "first_attempt" else 3) for r in requests), requests
    async with cycle_stack.sessions() as session:
        orders = list(await session.scalars(select(Order).where(Order.customer_id == customer_id)))
    assert all(o.failure_reason is None for o in orders if o.source == "restock")
    figure(
        garbled=garbled,
        containers=n,
        garbled_answers=times,
        requests_per_key=requests,
        erp_orders=len(submissions),
        status=done.status.value,
    )


# --- 5. duplicate and concurrent approvals ------------------------------------------------


async def test_duplicate_approval_is_one_decision(cycle_stack: CycleStack, figure: Figure) -> None:
    customer_id, erp_code, version = await awaiting(cycle_stack)
    first = await approve(cycle_stack, customer_id, version, update_id="approve-once")
    second = await approve(cycle_stack, customer_id, version, update_id="approve-once")
    assert second == first
    with pytest.raises(Conflict):  # a different update id is a second approval: refused
        await approve(cycle_stack, customer_id, version)
    state = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMITTED)
    submissions = await one_order_per_container(cycle_stack, erp_code, state)
    async with cycle_stack.sessions() as session:
        decisions = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.customer_id == customer_id,
                    AuditEntry.action == "recommendation.approved",
                )
            )
        )
    assert len(decisions) == 1
    figure(same_update_id_sent=2, decisions=len(decisions), erp_orders=len(submissions))


async def test_twenty_concurrent_approvals_one_accepted(
    cycle_stack: CycleStack, figure: Figure
) -> None:
    customer_id, erp_code, version = await awaiting(cycle_stack)
    address = cycle_stack.client.service_client.config.target_host
    clients = await asyncio.gather(
        *(
            Client.connect(
                address, data_converter=pydantic_data_converter, interceptors=[signed_updates()]
            )
            for _ in range(20)
        )
    )
    outcomes = await asyncio.gather(
        *(approve(cycle_stack, customer_id, version, client=c) for c in clients),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if isinstance(o, ApproveResult)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    other = [o for o in outcomes if not isinstance(o, ApproveResult | Conflict)]
    assert not other, other
    assert len(accepted) == 1 and len(refused) == 19, outcomes
    state = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMITTED)
    submissions = await one_order_per_container(cycle_stack, erp_code, state)
    assert {o.idempotency_key for o in accepted[0].orders} == {
        s["idempotency_key"] for s in submissions
    }
    figure(
        clients=len(clients),
        accepted=len(accepted),
        refused=len(refused),
        refusal_codes=sorted({r.code for r in refused}),
        erp_orders=len(submissions),
        containers=len(state.orders),
    )


# --- 6. stale or expired approvals --------------------------------------------------------


async def test_approval_of_a_stale_version_is_refused_without_an_erp_call(
    cycle_stack: CycleStack, figure: Figure
) -> None:
    customer_id, erp_code, v1 = await awaiting(cycle_stack)
    async with unit_of_work(cycle_stack.sessions) as session:  # new inputs → a new version
        await settings_repo.update(
            session, customer_id, {"target_soh_weeks": 16.0}, updated_by="test"
        )
    refreshed: CycleState = await send_update(
        cycle_stack.client,
        customer_id,
        names.REFRESH,
        RefreshRequest(actor="buyer"),
    )
    assert refreshed.recommendation is not None
    v2 = refreshed.recommendation.version
    assert v2 > v1
    refusals: list[RestockError] = []
    for version in (v1, v2 + 1):
        with pytest.raises(Conflict) as refused:
            await approve(cycle_stack, customer_id, version)
        assert "stale" in refused.value.detail
        refusals.append(refused.value)
    assert await cycle_stack.submissions(erp_code) == []
    assert (await cycle_stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)).orders == []
    # The current version still goes through, once.
    await approve(cycle_stack, customer_id, v2)
    state = await cycle_stack.wait_for(customer_id, CycleStatus.SUBMITTED)
    submissions = await one_order_per_container(cycle_stack, erp_code, state)
    assert all(f":v{v2}:" in s["idempotency_key"] for s in submissions)
    figure(
        stale_versions_tried=[v1, v2 + 1],
        current_version=v2,
        refused=len(refusals),
        erp_calls_before_valid_approval=0,
        erp_orders_after_valid_approval=len(submissions),
    )


async def test_approval_after_expiry_is_refused_without_an_erp_call(
    cycle_stack: CycleStack, figure: Figure
) -> None:
    policy = FAULT_POLICY.model_copy(update={"expire_after": timedelta(seconds=2)})
    customer_id, erp_code, version = await awaiting(cycle_stack, policy)
    expired = await cycle_stack.wait_for(customer_id, CycleStatus.EXPIRED)
    assert expired.decision is not None and expired.decision.kind == "expired"
    with pytest.raises(RestockError) as refused:
        await approve(cycle_stack, customer_id, version)
    assert isinstance(refused.value, Conflict), refused.value
    # Once the expired cycle has closed, an approval is refused too (no workflow to take it).
    closed = await cycle_handle(cycle_stack.client, customer_id).result()
    assert closed.status is CycleStatus.EXPIRED
    with pytest.raises(RestockError) as refused_closed:
        await approve(cycle_stack, customer_id, version)
    assert isinstance(refused_closed.value, Conflict), refused_closed.value
    assert await cycle_stack.submissions(erp_code) == []
    async with cycle_stack.sessions() as session:
        orders = list(await session.scalars(select(Order).where(Order.customer_id == customer_id)))
    assert [o for o in orders if o.source == "restock"] == []
    figure(
        expire_after_seconds=2,
        refusal=type(refused.value).__name__,
        refusal_code=refused.value.code,
        detail=refused.value.detail,
        refusal_once_closed=refused_closed.value.code,
        erp_orders=0,
    )


# --- 7. the Temporal server restarted ------------------------------------------------------


@asynccontextmanager
async def stack_on_own_server(
    db_file: Path,
    port: int,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    erp_sim: ErpSim,
    task_queue: str,
) -> AsyncIterator[CycleStack]:
    """A dev server persisting to `db_file` on a fixed port, with a worker; both stop at the end."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()),
        dev_server_database_filename=str(db_file),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        port=port,
        dev_server_log_level="error",
        interceptors=[signed_updates()],
    )
    notifier = LogNotifier()
    try:
        async with running_worker(settings, env.client, task_queue=task_queue, notifier=notifier):
            yield CycleStack(env.client, settings, sessions, task_queue, erp_sim, notifier)
    finally:
        await env.shutdown()


@pytest.fixture
def own_temporal(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    yield tmp_path / "temporal.db", free_port()


@SQLITE_ONLY
async def test_temporal_restarted_while_waiting_then_approval_works(
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    erp_sim: ErpSim,
    task_queue: str,
    own_temporal: tuple[Path, int],
    figure: Figure,
) -> None:
    db_file, port = own_temporal
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=f"127.0.0.1:{port}",
        temporal_task_queue=task_queue,
    )
    args = (db_file, port, settings, sessions, erp_sim, task_queue)
    async with stack_on_own_server(*args) as stack:
        customer_id, erp_code, version = await awaiting(stack)
        before = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    # The server is down now; its database file keeps the waiting cycle.
    async with stack_on_own_server(*args) as stack:
        after = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
        assert after.workflow_id == before.workflow_id
        assert after.recommendation == before.recommendation
        result = await approve(stack, customer_id, version)
        state = await stack.wait_for(customer_id, CycleStatus.SUBMITTED)
        submissions = await one_order_per_container(stack, erp_code, state)
        assert {o.idempotency_key for o in result.orders} == {
            s["idempotency_key"] for s in submissions
        }
        await terminate_open_workflows(stack.client, task_queue)
    figure(
        server_restarts=1,
        waiting_before=before.status.value,
        waiting_after=after.status.value,
        erp_orders=len(submissions),
    )
