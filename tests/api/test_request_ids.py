"""Every answer carries a request id, and the reason for a refusal is logged with it (the
access log has the status only)."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.api.conftest import Tenants, bearer


async def test_a_refusal_is_logged_with_its_reason_and_request_id(
    api_client: httpx.AsyncClient, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    foreign = f"/api/customers/{tenants.b.customer_id}/dashboard"
    with caplog.at_level(logging.INFO, logger="restock.api"):
        refused = await api_client.get(foreign, headers=bearer(tenants.buyer_a))
        chosen = await api_client.get(
            "/api/customers/0", headers={**bearer(tenants.buyer_a), "X-Request-Id": "abc-123"}
        )
    assert refused.status_code == 404
    request_id = refused.headers["x-request-id"]
    assert len(request_id) == 16
    lines = [r.getMessage() for r in caplog.records if r.name == "restock.api"]
    assert any(
        f"GET {foreign} -> 404 not_found" in line and f"[request {request_id}]" in line
        for line in lines
    ), lines
    assert chosen.headers["x-request-id"] == "abc-123"  # a proxy's id is kept
    assert any("-> 422 invalid_input" in line and "[request abc-123]" in line for line in lines)
    ok = await api_client.get("/healthz")
    assert ok.status_code == 200 and ok.headers["x-request-id"]
