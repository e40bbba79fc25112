"""A request's session: a read runs its statements without a transaction on PostgreSQL (no
BEGIN/COMMIT round trips), anything else in one transaction, on both databases."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.deps import ResourcesDep, SessionDep
from store.customers import upsert_customer
from store.db import reading
from store.models import Customer


@pytest.fixture
def probed_app(api_app: FastAPI) -> FastAPI:
    """The app with one more route: it writes a customer in the request's session and asks
    another connection, before the request ends, whether the row is there yet."""

    @api_app.api_route("/_test/visible-before-the-end", methods=["GET", "POST"])
    async def probe(session: SessionDep, resources: ResourcesDep) -> dict[str, bool]:
        code = "K-PROBE"
        await upsert_customer(session, erp_code=code, name="Probe", timezone="UTC")
        await session.flush()
        async with reading(resources.sessions) as other:
            found = await other.scalar(select(Customer.id).where(Customer.erp_code == code))
        return {"visible": found is not None}

    return api_app


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_reads_statements_land_one_by_one_on_postgresql_only(
    probed_app: FastAPI, api_client: httpx.AsyncClient, database_url: str, method: str
) -> None:
    response = await api_client.request(method, "/_test/visible-before-the-end")

    assert response.status_code == 200, response.text
    autocommit = method == "GET" and database_url.startswith("postgresql")
    assert response.json() == {"visible": autocommit}
    async with reading(probed_app.state.resources.sessions) as session:
        stored = await session.scalar(select(Customer.name).where(Customer.erp_code == "K-PROBE"))
    assert stored == "Probe"  # committed at the end either way
