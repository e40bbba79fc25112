"""Exactly-once submission: a lost response, then a retry with the same key."""

from __future__ import annotations

import uuid

import pytest

from erp.client import ErpClient, build_http_client
from erp.errors import ErpRejected, ErpTimeout
from erp.models import OrderSubmission
from planning.models import OrderLine, ProductStatus
from tests.plugins.erp_sim import ErpSim


async def test_retry_after_a_lost_response_returns_the_same_order(
    erp_sim: ErpSim, fresh_customer: str
) -> None:
    async with build_http_client(erp_sim.settings(erp_timeout_seconds=0.5)) as http:
        client = ErpClient(http, base_url=erp_sim.base_url, api_key=erp_sim.api_key)
        products = await client.list_products(fresh_customer)
        product = next(p for p in products if p.status is ProductStatus.ACTIVE)
        request = OrderSubmission(
            lines=[
                OrderLine(product_code=product.code, quantity=max(product.pack_size, product.moq))
            ]
        )
        key = f"cycle-{uuid.uuid4()}"
        # The ERP stores the order, then answers too late: the client sees a timeout.
        with (
            erp_sim.faults(
                latency_seconds=2.0, latency_after_processing=True, endpoints=["submit"], times=1
            ),
            pytest.raises(ErpTimeout) as caught,
        ):
            await client.submit_order(fresh_customer, request, idempotency_key=key)
        assert caught.value.retryable
        # The orchestration retries with the same key.
        receipt = await client.submit_order(fresh_customer, request, idempotency_key=key)

        async with erp_sim.admin() as admin:
            listed = (
                await admin.get("/admin/submissions", params={"customer": fresh_customer})
            ).json()
        history = await client.list_orders(fresh_customer)

    assert receipt.replayed
    assert [(s["idempotency_key"], s["requests"]) for s in listed] == [(key, 2)]
    assert receipt.order_number == listed[0]["order_number"]
    assert sum(1 for o in history if o.reference == key) == 1


async def test_same_key_for_a_different_order_is_refused(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    products = [
        p
        for p in await erp_client.list_products(fresh_customer)
        if p.status is ProductStatus.ACTIVE
    ]
    key = str(uuid.uuid4())

    def order(i: int) -> OrderSubmission:
        p = products[i]
        return OrderSubmission(
            lines=[OrderLine(product_code=p.code, quantity=max(p.pack_size, p.moq))]
        )

    first = await erp_client.submit_order(fresh_customer, order(0), idempotency_key=key)
    with pytest.raises(ErpRejected) as caught:
        await erp_client.submit_order(fresh_customer, order(1), idempotency_key=key)
    assert caught.value.erp_code == "E_IDEMPOTENCY_KEY_REUSED"
    assert erp_sim.world.submissions[key].order_number == first.order_number
