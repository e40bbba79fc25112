"""The reorder loop over twelve weeks, time-skipped: a review every week while earlier
containers are at sea (lead time ten weeks), a buyer approving each recommendation (a review
may also find nothing to order: enough on hand and on the water), each shipment followed by
its own workflow until delivered.

The test drives what the customer's Schedule would start each week (the time-skipping server
has no Schedules; they are tested on the dev server) and moves the ERP's clock a week at a
time with Temporal's. At every review the plan's pipeline, per product, is exactly what the ERP
still has on the way: nothing in transit is ordered again, nothing is forgotten.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from erp.client import ErpClient, build_http_client
from planning.models import PIPELINE_STATUSES
from services.cycle_control import send_update, start_review
from store.models import SnapshotProduct
from tests.plugins.erp_sim import ErpSim, start_erp_sim
from tests.workflows.conftest import CycleStack, skip_time
from workflows.contract import names
from workflows.contract.cycle import ApproveRequest, CyclePolicy, CycleState, CycleStatus
from workflows.contract.shipment import ShipmentStatus

pytestmark = pytest.mark.slow

WEEKS = 12
LEAD_TIME_WEEKS = 10
WEEK = timedelta(days=7)
# Production's waiting; shipments ask the ERP every few days (fewer skipped-time polls; each
# still asks on its ETA's day before it would call the order late).
POLICY = CyclePolicy(track_poll_initial=timedelta(hours=6), track_poll_max=timedelta(days=3))


@pytest.fixture
def own_erp_sim() -> Iterator[ErpSim]:
    """A simulator per run (SQLite, PostgreSQL): each starts the customer on the same day."""
    sim = start_erp_sim()
    try:
        yield sim
    finally:
        sim.server.stop()


async def _erp_pipeline(erp: ErpClient, code: str) -> Counter[str]:
    """Cartons per product in the ERP's orders not yet delivered (the truth)."""
    on_the_way: Counter[str] = Counter()
    for order in await erp.list_orders(code, statuses=PIPELINE_STATUSES):
        for line in order.lines:
            on_the_way[line.product_code] += line.quantity
    return on_the_way


async def _planned_pipeline(stack: CycleStack, customer_id: int) -> Counter[str]:
    async with stack.sessions() as session:
        rows = await session.execute(
            select(SnapshotProduct.code, SnapshotProduct.pipeline).where(
                SnapshotProduct.customer_id == customer_id
            )
        )
        return Counter({code: pipeline for code, pipeline in rows if pipeline})


async def test_twelve_weekly_reviews_with_containers_at_sea(
    skip_stack: CycleStack, time_skipping_env: WorkflowEnvironment
) -> None:
    stack = skip_stack
    customer_id, erp_code = await stack.new_customer(
        n_products=6,
        monthly_cartons=30_000,
        capacity=5_000,
        lead_time_weeks=LEAD_TIME_WEEKS,
        cadence_weeks=1,
    )
    http = build_http_client(stack.settings)
    erp = ErpClient(http, base_url=stack.erp_sim.base_url, api_key=stack.erp_sim.api_key)
    cycles: list[CycleState] = []
    quiet_weeks: list[int] = []
    previous_run: str | None = None
    try:
        for week in range(WEEKS):
            if week:
                await stack.advance_erp(days=7)
                await skip_time(time_skipping_env, WEEK)
            review = await start_review(
                stack.client,
                customer_id=customer_id,
                customer_name=f"customer {customer_id}",
                task_queue=stack.task_queue,
                policy=POLICY,
            )
            assert review.action == "started", (week, review)
            assert review.run_id != previous_run
            previous_run = review.run_id
            state = await stack.wait_for(
                customer_id, CycleStatus.AWAITING_APPROVAL, CycleStatus.NOTHING_TO_ORDER
            )
            # Everything on the water counts, once: the plan's pipeline is the ERP's.
            assert await _planned_pipeline(stack, customer_id) == await _erp_pipeline(
                erp, erp_code
            ), f"week {week}"
            if state.status is CycleStatus.NOTHING_TO_ORDER:
                quiet_weeks.append(week)  # enough on hand and on the water: a valid review
                continue
            assert state.recommendation is not None
            await send_update(
                stack.client,
                customer_id,
                names.APPROVE,
                ApproveRequest(version=state.recommendation.version, actor="buyer"),
            )
            # Queries, not `result()`: waiting on a result lets the test server skip time,
            # which would run Temporal's calendar ahead of the ERP's.
            cycles.append(await stack.wait_for(customer_id, CycleStatus.SUBMITTED))

        # The last orders arrive ten weeks after the last review.
        for _ in range(LEAD_TIME_WEEKS + 1):
            await stack.advance_erp(days=7)
            await skip_time(time_skipping_env, WEEK)
        orders = [o for c in cycles for o in c.orders]
        shipments = [
            s for c in cycles for s in await stack.wait_shipments(c, ShipmentStatus.DELIVERED)
        ]
        assert len(shipments) == len(orders)
        late = [
            (s.erp_order_number, s.promised_eta, s.eta, s.delivered_on, s.late_reason)
            for s in shipments
            if s.late
        ]
        now = await time_skipping_env.get_current_time()
        assert not late, (now, late)
        assert await _erp_pipeline(erp, erp_code) == Counter()
    finally:
        await http.aclose()

    versions = [c.recommendation.version for c in cycles if c.recommendation]
    assert len(versions) == len(cycles) == WEEKS - len(quiet_weeks)
    assert len(cycles) >= WEEKS // 2, quiet_weeks  # containers at sea most weeks
    assert versions == sorted(set(versions))
    submissions = await stack.submissions(erp_code)
    keys = sorted(o.idempotency_key for o in orders)
    assert sorted(s["idempotency_key"] for s in submissions) == keys  # one per container
    assert len({s["order_number"] for s in submissions}) == len(orders)
    print(
        f"{WEEKS} reviews ({len(quiet_weeks)} with nothing to order), "
        f"{len(orders)} containers ordered, "
        f"{len(shipments)} shipments delivered, {sum(s.checks for s in shipments)} checks"
    )
