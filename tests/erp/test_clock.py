"""Simulated time: orders move approved → in transit → delivered, and stock is consumed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from erp.client import ErpClient, build_http_client
from erp.models import OrderSubmission
from erp.simulator.clock import SimClock
from erp.simulator.generator import CustomerSpec
from erp.simulator.world import SimWorld
from planning.models import OrderLine, OrderStatus, ProductStatus
from tests.plugins.erp_sim import ErpSim, start_erp_sim

START = date(2026, 5, 4)
CODE = "CLK-1"
SPEC = CustomerSpec(
    code=CODE, name="Clock Test Ltd", n_products=30, monthly_cartons=9_000, lead_time_weeks=4
)


@pytest.fixture(scope="module")
def own_sim() -> Iterator[ErpSim]:
    """A simulator of this module's own: moving its clock cannot disturb other tests."""
    world = SimWorld(today=START, seed=5)
    world.add_spec(SPEC, seed=5)
    sim = start_erp_sim(world)
    try:
        yield sim
    finally:
        sim.server.stop()


async def advance(sim: ErpSim, days: int) -> dict[str, int]:
    async with sim.admin() as admin:
        response = await admin.post("/admin/clock/advance", json={"days": days})
    assert response.status_code == 200, response.text
    result: dict[str, int] = response.json()
    return result


async def test_orders_move_on_and_stock_is_consumed(own_sim: ErpSim) -> None:
    async with build_http_client(own_sim.settings()) as http:
        client = ErpClient(http, base_url=own_sim.base_url, api_key=own_sim.api_key)
        before = await client.list_products(CODE)
        product = next(p for p in before if p.status is ProductStatus.ACTIVE)
        quantity = max(product.pack_size, product.moq)
        receipt = await client.submit_order(
            CODE,
            OrderSubmission(lines=[OrderLine(product_code=product.code, quantity=quantity)]),
            idempotency_key="clock-order-1",
        )
        shipped_before = len(await client.list_shipments(CODE))

        first = await advance(own_sim, 8)
        in_transit = await client.get_order(CODE, receipt.order_number)
        assert in_transit.status is OrderStatus.IN_TRANSIT
        assert receipt.order_number not in {
            o.order_number for o in await client.list_open_orders(CODE)
        }
        shipments = await client.list_shipments(CODE, since=START)
        assert len(await client.list_shipments(CODE)) > shipped_before
        assert any(s.product_code == product.code and s.quantity == quantity for s in shipments)

        second = await advance(own_sim, 4 * 7)
        delivered = await client.get_order(CODE, receipt.order_number)
        assert delivered.status is OrderStatus.DELIVERED
        assert delivered.delivered_on is not None
        assert START < delivered.delivered_on < START + timedelta(days=36)
        after = await client.list_products(CODE)
        profile_date = (await client.sync_snapshot(CODE)).erp_as_of

    assert profile_date == START + timedelta(days=36)
    consumed = first["cartons_consumed"] + second["cartons_consumed"]
    delivered_cartons = first["cartons_delivered"] + second["cartons_delivered"]
    assert consumed > 0 and delivered_cartons >= quantity
    total = sum(p.stock_on_hand or 0 for p in before)
    assert sum(p.stock_on_hand or 0 for p in after) == total + delivered_cartons - consumed
    demand = own_sim.world.customer(CODE).process(START, 36)
    assert consumed <= int(demand.sum())


def test_the_clock_job_advances_whole_days() -> None:
    world = SimWorld(today=START, seed=1)
    world.add_spec(SPEC, seed=1)
    now = [1000.0]
    clock = SimClock(world, days_per_minute=60, monotonic=lambda: now[0])
    now[0] += 2.5  # 2.5 s at one day per second
    assert clock.tick() == 2
    now[0] += 0.6  # the half day owed plus 0.6 makes one more
    assert clock.tick() == 1
    assert world.today == START + timedelta(days=3)
    with pytest.raises(ValueError):
        SimClock(world, days_per_minute=0)
