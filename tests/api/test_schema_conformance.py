"""What schemathesis found, pinned: a body that is not UTF-8 is a documented 400, a date is
YYYY-MM-DD (not a Unix time), a 405 lists every method of the path, and ordered_from after
ordered_to is a 422 naming the field."""

from __future__ import annotations

import httpx

from tests.api.conftest import Tenants, bearer


async def test_an_unreadable_body_is_a_documented_400(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    response = await api_client.post(
        "/api/auth/login", content=b"${A\xff", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unreadable_body"
    spec = (await api_client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert {"400", "413"} <= operation["responses"].keys(), (method, path)


async def test_dates_are_iso_only_and_ordered_in_range(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    url = f"/api/customers/{tenants.a.customer_id}/orders"
    headers = bearer(tenants.buyer_a)
    for value in ("0", "1", "1700000000", "2026-13-01", "yesterday"):
        refused = await api_client.get(url, headers=headers, params={"ordered_to": value})
        assert refused.status_code == 422, value
        assert refused.json()["field"] == "ordered_to"
    fine = await api_client.get(url, headers=headers, params={"ordered_to": "2026-12-31"})
    assert fine.status_code == 200
    backwards = await api_client.get(
        url, headers=headers, params={"ordered_from": "2026-12-31", "ordered_to": "2026-01-01"}
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "ordered_from"


async def test_a_405_lists_every_method_of_the_path(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    base = f"/api/customers/{tenants.a.customer_id}"
    for tail, methods in (("/cycles", "GET, POST"), ("/settings", "GET, PUT")):
        response = await api_client.request("DELETE", base + tail, headers=bearer(tenants.ops))
        assert response.status_code == 405
        assert response.headers["allow"] == methods, tail
