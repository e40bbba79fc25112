"""A real cycle stack per test: dev server, ERP simulator over HTTP, database, a worker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.notifier import LogNotifier, Message
from core.settings import Settings
from core.temporal import SEARCH_ATTRIBUTES
from services.cycle_control import StartedCycle, cycle_handle, cycle_status, start_cycle
from store import customer_settings as settings_repo
from store.customers import upsert_customer
from store.db import unit_of_work
from tests.plugins.erp_sim import ErpSim, start_erp_sim
from worker import running_worker
from workflows.contract import names
from workflows.contract.cycle import CyclePolicy, CycleState, CycleStatus
from workflows.contract.shipment import ShipmentState, ShipmentStatus

# A small, busy customer whose stock is below a generous target: every cycle orders.
TARGET_WEEKS = 14.0
# Poll the ERP quickly: the tests move the ERP's clock and wait for the cycle to notice.
FAST_POLICY = CyclePolicy(
    track_poll_initial=timedelta(milliseconds=300), track_poll_max=timedelta(seconds=1)
)


@dataclass
class CycleStack:
    client: Client
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str
    erp_sim: ErpSim
    notifier: LogNotifier

    async def new_customer(
        self,
        *,
        n_products: int = 12,
        monthly_cartons: int = 40_000,
        capacity: int = 20_000,
        **settings: Any,
    ) -> tuple[int, str]:
        """A customer of this test's own, in the ERP simulator and in the store (the ERP's
        lead time is the settings' one)."""
        code = f"W-{uuid.uuid4().hex[:8].upper()}"
        values = {
            "target_soh_weeks": TARGET_WEEKS,
            "lead_time_weeks": 6,
            # The tests approve containers: a part-full last one ships rather than waiting.
            "last_container": "keep",
        } | settings
        async with self.erp_sim.admin() as admin:
            response = await admin.post(
                "/admin/customers",
                json={
                    "code": code,
                    "name": f"Customer {code}",
                    "n_products": n_products,
                    "seed": 5,
                    "monthly_cartons": monthly_cartons,
                    "container_capacity_cartons": capacity,
                    "lead_time_weeks": values["lead_time_weeks"],
                },
            )
        assert response.status_code == 201, response.text
        async with unit_of_work(self.sessions) as session:
            customer = await upsert_customer(
                session, erp_code=code, name=f"Customer {code}", timezone="UTC"
            )
            await settings_repo.get_or_create(
                session, customer.id, container_capacity_cartons=capacity, **values
            )
        return customer.id, code

    async def start(
        self,
        customer_id: int,
        policy: CyclePolicy | None = None,
        *,
        name: str | None = None,
        erp_customer: str | None = None,
    ) -> StartedCycle:
        return await start_cycle(
            self.client,
            customer_id=customer_id,
            customer_name=name or f"customer {customer_id}",
            task_queue=self.task_queue,
            policy=policy or FAST_POLICY,
            started_by="test",
            erp_customer=erp_customer,
        )

    async def wait_for(
        self, customer_id: int, *statuses: CycleStatus, attempts: int = 600
    ) -> CycleState:
        """Poll the status query until the cycle reaches one of `statuses`."""
        state: CycleState | None = None
        for _ in range(attempts):
            try:
                state = await cycle_status(self.client, customer_id)
            except Exception:  # not started yet
                state = None
            if state is not None and state.status in statuses:
                return state
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"cycle never reached {statuses}; last state: {state}\n"
            f"history tail: {await self.history_tail(customer_id)}"
        )

    async def shipment(self, workflow_id: str) -> ShipmentState:
        handle = self.client.get_workflow_handle(workflow_id, result_type=ShipmentState)
        state: ShipmentState = await handle.query(names.STATUS, result_type=ShipmentState)
        return state

    async def wait_shipments(
        self, state: CycleState, *statuses: ShipmentStatus, attempts: int = 600
    ) -> list[ShipmentState]:
        """Poll the cycle's shipments until each is in one of `statuses`."""
        ids = [o.shipment_workflow_id for o in state.orders if o.erp_order_number]
        assert ids and all(ids), f"orders without a shipment: {state.orders}"
        found: list[ShipmentState] = []
        for _ in range(attempts):
            found = [await self.shipment(wid) for wid in ids if wid]
            if all(s.status in statuses for s in found):
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"shipments never reached {statuses}: {found}")

    async def wait_notified(self, subject_part: str, attempts: int = 300) -> Message:
        for _ in range(attempts):
            for message in self.notifier.sent:
                if subject_part in message.subject:
                    return message
            await asyncio.sleep(0.1)
        raise AssertionError(f"no notification about {subject_part!r}: {self.notifier.sent}")

    async def history_tail(self, customer_id: int, events: int = 25) -> list[str]:
        handle = cycle_handle(self.client, customer_id)
        history = await handle.fetch_history()
        tail = []
        for event in history.events[-events:]:
            kind = event.WhichOneof("attributes") or "?"
            detail = ""
            if event.HasField("activity_task_scheduled_event_attributes"):
                detail = event.activity_task_scheduled_event_attributes.activity_type.name
            if event.HasField("workflow_task_failed_event_attributes"):
                detail = event.workflow_task_failed_event_attributes.failure.message
            tail.append(f"{event.event_id} {kind} {detail}".strip())
        return tail

    async def submissions(self, erp_code: str) -> list[dict[str, Any]]:
        async with self.erp_sim.admin() as admin:
            response = await admin.get("/admin/submissions", params={"customer": erp_code})
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()
        return rows

    async def advance_erp(self, days: int) -> None:
        async with self.erp_sim.admin() as admin:
            response = await admin.post("/admin/clock/advance", json={"days": days})
        response.raise_for_status()

    def admin(self) -> httpx.AsyncClient:
        return self.erp_sim.admin()


@pytest.fixture
async def cycle_stack(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    erp_sim: ErpSim,
    task_queue: str,
) -> AsyncIterator[CycleStack]:
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
    )
    notifier = LogNotifier()
    # Cycles left open by earlier tests (e.g. the API fuzz test starts real workflows with
    # no worker) share workflow ids with this test's customers: close them first.
    await terminate_open_workflows(temporal_client, None)
    async with running_worker(settings, temporal_client, task_queue=task_queue, notifier=notifier):
        yield CycleStack(temporal_client, settings, sessions, task_queue, erp_sim, notifier)
    await terminate_open_workflows(temporal_client, task_queue)


async def terminate_open_workflows(client: Client, task_queue: str | None) -> None:
    """Customer ids repeat between the SQLite and PostgreSQL runs on one Temporal server, so
    no cycle of a finished test may stay open to be mistaken for the next test's. With no
    task queue: every open cycle, shipment and notification on the server."""
    types = "('ReorderCycle', 'Shipment', 'Notification')"
    where = f"TaskQueue = '{task_queue}'" if task_queue else f"WorkflowType IN {types}"
    query = f"{where} AND ExecutionStatus = 'Running'"
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        try:
            await handle.terminate("test finished")
        except RPCError as err:  # it completed since it was listed
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise


@pytest.fixture(scope="module")
def own_erp_sim() -> Iterator[ErpSim]:
    """An ERP simulator whose clock no other test moves, so the customers' urgency is stable."""
    sim = start_erp_sim()
    try:
        yield sim
    finally:
        sim.server.stop()


@pytest.fixture
async def own_clock_stack(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    own_erp_sim: ErpSim,
    task_queue: str,
) -> AsyncIterator[CycleStack]:
    """`cycle_stack` on an ERP simulator whose clock no other test moves: a test that needs
    some containers urgent and others not finds such customers (on the shared simulator,
    tests that move its clock leave every product urgent)."""
    settings = own_erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
    )
    notifier = LogNotifier()
    await terminate_open_workflows(temporal_client, None)
    async with running_worker(settings, temporal_client, task_queue=task_queue, notifier=notifier):
        yield CycleStack(temporal_client, settings, sessions, task_queue, own_erp_sim, notifier)
    await terminate_open_workflows(temporal_client, task_queue)


@pytest.fixture
async def skip_stack(
    time_skipping_env: WorkflowEnvironment,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    own_erp_sim: ErpSim,
    task_queue: str,
) -> AsyncIterator[CycleStack]:
    """`cycle_stack` on the time-skipping server: the worker polls the test server."""
    erp_sim = own_erp_sim
    client = time_skipping_env.client
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in SEARCH_ATTRIBUTES
            },
        )
    )
    settings = erp_sim.settings(
        database_url=database_url,
        temporal_address=client.service_client.config.target_host,
        temporal_task_queue=task_queue,
    )
    notifier = LogNotifier()
    async with running_worker(settings, client, task_queue=task_queue, notifier=notifier):
        yield CycleStack(client, settings, sessions, task_queue, erp_sim, notifier)


@pytest.fixture(scope="package")
def erp_sim() -> Iterator[ErpSim]:
    """Workflow tests move the ERP's clock (orders get delivered); they get a simulator of
    their own so the shared one keeps the demo data the ERP and API tests expect."""
    sim = start_erp_sim()
    try:
        yield sim
    finally:
        sim.server.stop()


SKIP_TIMEOUT = timedelta(minutes=2)


async def terminate_when_idle(handle: WorkflowHandle[Any, Any], reason: str) -> None:
    """Terminate a workflow on the time-skipping server only once no activity or workflow
    task of it is in flight. The test server locks time while one is, and terminating the
    workflow then never releases that lock (temporalio/sdk-java#1138): every later
    `skip_time` of the test would advance in real time. Time is locked meanwhile, so an idle
    workflow stays idle until the terminate."""
    for _ in range(300):
        if not await _work_in_flight(handle):
            await handle.terminate(reason)
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{handle.id} never idle")


ACTIVITY_CLOSED = {
    "activity_task_completed_event_attributes",
    "activity_task_failed_event_attributes",
    "activity_task_timed_out_event_attributes",
    "activity_task_canceled_event_attributes",
}


async def _work_in_flight(handle: WorkflowHandle[Any, Any]) -> bool:
    """From one read of the history, which is consistent where describe and history read one
    after the other are not (the test server's describe never reports a workflow task)."""
    activities: set[int] = set()
    task_scheduled = task_completed = 0
    async for event in handle.fetch_history_events():
        kind = event.WhichOneof("attributes")
        if kind == "activity_task_scheduled_event_attributes":
            activities.add(event.event_id)
        elif kind in ACTIVITY_CLOSED:
            activities.discard(getattr(event, kind).scheduled_event_id)
        elif kind == "workflow_task_scheduled_event_attributes":
            task_scheduled = event.event_id
        elif kind == "workflow_task_completed_event_attributes":
            task_completed = event.event_id
    return bool(activities) or task_scheduled > task_completed


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """`env.sleep(duration)` with room for a loaded machine: the test server fires every
    timer due in `duration` (every waiting workflow of the session wakes) before it answers,
    which on 2 shared cores can outlast the default RPC deadline."""
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    await env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=SKIP_TIMEOUT)
