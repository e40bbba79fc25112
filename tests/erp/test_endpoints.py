"""Every ERP endpoint through the connector, over HTTP against the simulator."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from core.errors import DependencyUnavailable
from erp.client import ErpClient, build_http_client
from erp.errors import ErpAuthFailed, ErpNotFound, ErpRejected
from erp.models import OrderSubmission
from erp.simulator.generator import DEMO_LARGE, DEMO_MEDIUM, DEMO_SMALL
from planning.models import CreditStatus, OrderLine, OrderStatus, Product, ProductStatus
from tests.plugins.erp_sim import ErpSim


def orderable(products: list[Product]) -> Product:
    return next(p for p in products if p.status is ProductStatus.ACTIVE and p.pack_size > 1)


def quantity_for(product: Product) -> int:
    return max(product.pack_size, product.moq)


async def test_customer_profile_is_mapped(erp_client: ErpClient, erp_sim: ErpSim) -> None:
    profile = await erp_client.get_customer(DEMO_LARGE)
    truth = erp_sim.world.customer(DEMO_LARGE).profile
    assert profile == truth
    assert profile.container_capacity_cartons == 90_000
    assert {c.role for c in profile.contacts} == {"buyer", "planner"}


async def test_products_carry_units_and_stock(erp_client: ErpClient, erp_sim: ErpSim) -> None:
    products = await erp_client.list_products(DEMO_MEDIUM)
    state = erp_sim.world.customer(DEMO_MEDIUM)
    assert [p.code for p in products] == state.codes
    for ours, truth, stock in zip(products, state.products, state.stock.tolist(), strict=True):
        assert ours.stock_on_hand == stock
        assert ours.pack_size == truth.pack_size and ours.moq == truth.moq
        assert ours.status is truth.status
        assert ours.carton_weight_kg == pytest.approx(truth.carton_weight_kg, abs=0.0005)
        assert ours.carton_volume_m3 == pytest.approx(truth.carton_volume_m3, abs=5e-7)


async def test_shipments_since_a_date(erp_client: ErpClient, erp_sim: ErpSim) -> None:
    everything = await erp_client.list_shipments(DEMO_SMALL)
    assert len(everything) == len(erp_sim.world.customer(DEMO_SMALL).shipments)
    since = erp_sim.world.today - timedelta(days=180)
    recent = await erp_client.list_shipments(DEMO_SMALL, since=since)
    assert recent and all(s.ship_date >= since for s in recent)
    assert len(recent) == sum(1 for s in everything if s.ship_date >= since)


async def test_open_orders_are_approved_and_unshipped(erp_client: ErpClient) -> None:
    open_orders = await erp_client.list_open_orders(DEMO_MEDIUM)
    assert open_orders
    assert {o.status for o in open_orders} == {OrderStatus.APPROVED}


async def test_order_history_with_status_filters(erp_client: ErpClient, erp_sim: ErpSim) -> None:
    history = await erp_client.list_orders(DEMO_MEDIUM)
    assert {OrderStatus.DELIVERED, OrderStatus.IN_TRANSIT, OrderStatus.CANCELLED} <= {
        o.status for o in history
    }
    since = erp_sim.world.today - timedelta(days=90)
    recent = await erp_client.list_orders(DEMO_MEDIUM, since=since)
    assert recent and all(o.ordered_on >= since for o in recent)
    transit = await erp_client.list_orders(DEMO_MEDIUM, statuses={OrderStatus.IN_TRANSIT})
    assert transit and all(o.status is OrderStatus.IN_TRANSIT and o.eta for o in transit)
    delivered = [o for o in history if o.status is OrderStatus.DELIVERED]
    assert all(o.delivered_on is not None for o in delivered)


async def test_get_order_and_unknown_order(erp_client: ErpClient) -> None:
    history = await erp_client.list_orders(DEMO_SMALL)
    one = await erp_client.get_order(DEMO_SMALL, history[-1].order_number)
    assert one == history[-1]
    with pytest.raises(ErpNotFound):
        await erp_client.get_order(DEMO_SMALL, "SO-NOPE")


async def test_ping_and_unknown_customer(erp_client: ErpClient) -> None:
    await erp_client.ping()
    with pytest.raises(ErpNotFound) as caught:
        await erp_client.get_customer("NOBODY")
    assert caught.value.erp_code == "E_NOT_FOUND"


async def test_wrong_api_key_is_not_retryable(erp_sim: ErpSim) -> None:
    async with build_http_client(erp_sim.settings()) as http:
        client = ErpClient(http, base_url=erp_sim.base_url, api_key="wrong")
        with pytest.raises(ErpAuthFailed) as caught:
            await client.ping()
    assert not caught.value.retryable
    assert not isinstance(caught.value, DependencyUnavailable)


async def test_submit_then_track_the_order(erp_client: ErpClient, fresh_customer: str) -> None:
    product = orderable(await erp_client.list_products(fresh_customer))
    key = f"cycle-{uuid.uuid4()}"
    request = OrderSubmission(
        lines=[OrderLine(product_code=product.code, quantity=quantity_for(product))]
    )
    receipt = await erp_client.submit_order(fresh_customer, request, idempotency_key=key)
    assert receipt.status is OrderStatus.APPROVED and not receipt.replayed
    assert receipt.idempotency_key == key and receipt.eta is not None
    tracked = await erp_client.get_order(fresh_customer, receipt.order_number)
    assert tracked.reference == key
    assert tracked.lines == request.lines
    open_numbers = {o.order_number for o in await erp_client.list_open_orders(fresh_customer)}
    assert receipt.order_number in open_numbers


@pytest.mark.parametrize(
    ("case", "erp_code"),
    [
        ("unknown item", "E_ITEM_UNKNOWN"),
        ("discontinued", "E_ITEM_DISCONTINUED"),
        ("not a pack multiple", "E_QTY_PACK"),
    ],
)
async def test_business_rejections_carry_the_erp_code(
    erp_client: ErpClient, fresh_customer: str, case: str, erp_code: str
) -> None:
    products = await erp_client.list_products(fresh_customer)
    active = orderable(products)
    line = {
        "unknown item": OrderLine(product_code="NO-SUCH-ITEM", quantity=1),
        "discontinued": OrderLine(
            product_code=next(p.code for p in products if p.status is ProductStatus.DISCONTINUED),
            quantity=1,
        ),
        "not a pack multiple": OrderLine(
            product_code=active.code, quantity=quantity_for(active) + 1
        ),
    }[case]
    with pytest.raises(ErpRejected) as caught:
        await erp_client.submit_order(
            fresh_customer, OrderSubmission(lines=[line]), idempotency_key=str(uuid.uuid4())
        )
    assert caught.value.erp_code == erp_code
    assert not caught.value.retryable


async def test_credit_hold_rejects_orders(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    async with erp_sim.admin() as admin:
        response = await admin.patch(
            f"/admin/customers/{fresh_customer}", json={"credit_status": "hold"}
        )
        assert response.status_code == 204
    profile = await erp_client.get_customer(fresh_customer)
    assert profile.credit_status is CreditStatus.HOLD
    product = orderable(await erp_client.list_products(fresh_customer))
    request = OrderSubmission(
        lines=[OrderLine(product_code=product.code, quantity=quantity_for(product))]
    )
    with pytest.raises(ErpRejected) as caught:
        await erp_client.submit_order(fresh_customer, request, idempotency_key=str(uuid.uuid4()))
    assert caught.value.erp_code == "E_CREDIT_HOLD"


async def test_the_simulator_serves_its_openapi(erp_sim: ErpSim) -> None:
    async with httpx.AsyncClient(base_url=erp_sim.base_url) as http:
        spec = (await http.get("/openapi.json")).json()
        docs = await http.get("/docs")
    assert docs.status_code == 200
    paths = spec["paths"]
    for path in (
        "/api/v1/customers/{cust_no}",
        "/api/v1/customers/{cust_no}/items",
        "/api/v1/customers/{cust_no}/shipments",
        "/api/v1/customers/{cust_no}/activity",
        "/api/v1/customers/{cust_no}/orders/open",
        "/api/v1/customers/{cust_no}/orders",
        "/api/v1/customers/{cust_no}/orders/{order_no}",
        "/admin/faults",
        "/admin/clock/advance",
        "/admin/submissions",
    ):
        assert path in paths
    assert {"ItemRow", "ActivityRow"} <= spec["components"]["schemas"].keys()
