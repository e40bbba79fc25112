"""Each injected fault reaches the orchestration as the right typed error."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from core.errors import DependencyUnavailable
from erp.client import ErpClient, build_http_client
from erp.errors import (
    ErpBadData,
    ErpRateLimited,
    ErpRejected,
    ErpTimeout,
    ErpUnavailable,
)
from erp.models import OrderSubmission
from erp.simulator.generator import DEMO_SMALL
from planning.models import OrderLine, ProductStatus
from tests.plugins.erp_sim import ErpSim


@pytest.fixture
async def impatient_client(erp_sim: ErpSim) -> AsyncIterator[ErpClient]:
    """A client with a short timeout and no GET retries, so each fault shows at once."""
    http = build_http_client(erp_sim.settings(erp_timeout_seconds=0.4))
    try:
        yield ErpClient(http, base_url=erp_sim.base_url, api_key=erp_sim.api_key, get_retries=0)
    finally:
        await http.aclose()
        erp_sim.reset_faults()


async def test_error_rate_of_100_percent_is_unavailable(
    erp_client: ErpClient, erp_sim: ErpSim
) -> None:
    with erp_sim.faults(error_rate=1.0), pytest.raises(ErpUnavailable) as caught:
        await erp_client.list_products(DEMO_SMALL)
    error = caught.value
    assert error.retryable and isinstance(error, DependencyUnavailable)
    assert error.component == "erp" and error.status_code == 503


async def test_a_transient_error_is_retried_for_reads(
    erp_client: ErpClient, erp_sim: ErpSim
) -> None:
    with erp_sim.faults(error_rate=1.0, times=1):
        profile = await erp_client.get_customer(DEMO_SMALL)
        assert erp_sim.world.faults.status().remaining_requests is None  # the fault was used
    assert profile.code == DEMO_SMALL


async def test_latency_beyond_the_client_timeout_times_out(
    impatient_client: ErpClient, erp_sim: ErpSim
) -> None:
    with erp_sim.faults(latency_seconds=1.5, endpoints=["customer"]):
        with pytest.raises(ErpTimeout) as caught:
            await impatient_client.get_customer(DEMO_SMALL)
        await impatient_client.ping()  # other endpoints are unaffected
    assert caught.value.retryable


async def test_outage_window_is_unavailable_with_retry_after(
    erp_client: ErpClient, erp_sim: ErpSim
) -> None:
    with erp_sim.faults(outage_seconds=30), pytest.raises(ErpUnavailable) as caught:
        await erp_client.ping()
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 30
    await erp_client.ping()  # the window was cleared


async def test_rate_limit_exposes_retry_after(erp_client: ErpClient, erp_sim: ErpSim) -> None:
    faults = erp_sim.faults(rate_limit_rate=1.0, retry_after_seconds=7)
    with faults, pytest.raises(ErpRateLimited) as caught:
        await erp_client.list_shipments(DEMO_SMALL)
    assert caught.value.retry_after == 7
    assert caught.value.retryable


async def test_malformed_payload_is_bad_data(erp_client: ErpClient, erp_sim: ErpSim) -> None:
    with erp_sim.faults(malformed_rate=1.0), pytest.raises(ErpBadData) as caught:
        await erp_client.list_products(DEMO_SMALL)
    assert not caught.value.retryable
    assert "not JSON" in caught.value.detail


async def test_forced_business_rejection(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    product = next(
        p
        for p in await erp_client.list_products(fresh_customer)
        if p.status is ProductStatus.ACTIVE
    )
    request = OrderSubmission(
        lines=[OrderLine(product_code=product.code, quantity=max(product.pack_size, product.moq))]
    )
    key = str(uuid.uuid4())
    faults = erp_sim.faults(reject_code="E_ROUTE_BLOCKED", reject_message="port closed")
    with faults, pytest.raises(ErpRejected) as caught:
        await erp_client.submit_order(fresh_customer, request, idempotency_key=key)
    assert (caught.value.erp_code, caught.value.erp_message) == ("E_ROUTE_BLOCKED", "port closed")
    assert not caught.value.retryable
    assert key not in erp_sim.world.submissions


async def test_submissions_are_not_retried_by_the_client(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    product = next(
        p
        for p in await erp_client.list_products(fresh_customer)
        if p.status is ProductStatus.ACTIVE
    )
    request = OrderSubmission(
        lines=[OrderLine(product_code=product.code, quantity=max(product.pack_size, product.moq))]
    )
    key = str(uuid.uuid4())
    faults = erp_sim.faults(error_rate=1.0, times=1, endpoints=["submit"])
    with faults, pytest.raises(ErpUnavailable):
        await erp_client.submit_order(fresh_customer, request, idempotency_key=key)
    assert key not in erp_sim.world.submissions  # one attempt, refused before it took effect
