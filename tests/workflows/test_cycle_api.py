"""The cycle action routes end to end: the API in-process, a real dev server, worker and ERP.

Start (201, then 200 with the open one), read the current cycle, approve with an
Idempotency-Key (a retry is one decision), refusals as 409, reject, refresh, ops list with
Temporal UI links, ops retry after a business rejection, and 503 while Temporal is down.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.auth import tokens
from core.settings import Environment, Settings
from core.temporal import SEARCH_ATTRIBUTES, temporal_cli_path
from services.cycle_control import cycle_handle
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import AuditEntry, Role
from tests.api.conftest import add_user, bearer
from tests.workflows.conftest import CycleStack
from webapp import create_app
from workflows.contract.cycle import CycleStatus


@dataclass
class Api:
    http: httpx.AsyncClient
    customer_id: int
    erp_code: str
    buyer: dict[str, str]
    other_buyer: dict[str, str]
    ops: dict[str, str]

    def url(self, tail: str) -> str:
        return f"/api/customers/{self.customer_id}{tail}"


@pytest.fixture
async def api(cycle_stack: CycleStack) -> AsyncIterator[Api]:
    customer_id, erp_code = await cycle_stack.new_customer()
    other_id, _ = await cycle_stack.new_customer()
    settings = cycle_stack.settings
    users = [
        await add_user(cycle_stack.sessions, "buyer", Role.CUSTOMER, customer_id),
        await add_user(cycle_stack.sessions, "other-buyer", Role.CUSTOMER, other_id),
        await add_user(cycle_stack.sessions, "ops", Role.OPS),
    ]
    headers = [bearer(tokens.issue(settings, user).token) for user in users]
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Api(http, customer_id, erp_code, *headers)


async def _audit_actions(
    sessions: async_sessionmaker[AsyncSession], customer_id: int
) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.customer_id == customer_id)
            .order_by(AuditEntry.id)
        )
    return [(action, actor) for action, actor in rows]


async def _listed(api: Api, status: str) -> list[dict[str, Any]]:
    """The customer's cycles in `status` on the ops list (the read model follows the
    workflow's status a moment later)."""
    items: list[dict[str, Any]] = []
    for _ in range(100):
        params = {"status": status, "customer_id": api.customer_id}
        listed = await api.http.get("/api/cycles", headers=api.ops, params=params)
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        if items:
            break
        await asyncio.sleep(0.1)
    return items


async def test_start_read_and_approve_once_with_an_idempotency_key(
    cycle_stack: CycleStack, api: Api
) -> None:
    assert (await api.http.get(api.url("/cycles/current"), headers=api.buyer)).status_code == 404

    first = await api.http.post(api.url("/cycles"), headers=api.buyer)
    assert first.status_code == 201, first.text
    assert first.json()["started"] is True and first.json()["status"] == "syncing"
    again = await api.http.post(api.url("/cycles"), headers=api.buyer)
    assert again.status_code == 200, again.text
    assert again.json()["started"] is False
    assert again.json()["run_id"] == first.json()["run_id"]
    # the open cycle was reviewed: still syncing (left alone) or already waiting (refreshed)
    assert again.json()["review"].split(":")[0] in ("skipped", "refreshed"), again.json()
    # another tenant cannot see or start it
    for method in ("get", "post"):
        tail = "/cycles/current" if method == "get" else "/cycles"
        denied = await api.http.request(method, api.url(tail), headers=api.other_buyer)
        assert denied.status_code == 404 and denied.json()["error"] == "not_found"

    await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    current = (await api.http.get(api.url("/cycles/current"), headers=api.buyer)).json()
    assert current["open"] is True and current["status"] == "awaiting_approval"
    assert current["temporal_ui_url"] is None  # the Temporal UI is for ops, not customers
    assert first.json()["temporal_ui_url"] is None
    ops_view = (await api.http.get(api.url("/cycles/current"), headers=api.ops)).json()
    assert ops_view["temporal_ui_url"].endswith(
        f"/namespaces/default/workflows/reorder-cycle-{api.customer_id}/{first.json()['run_id']}"
    )
    assert current["record"]["status"] == "awaiting_approval"
    rec = current["state"]["recommendation"]
    version, indexes = rec["version"], [c["index"] for c in rec["containers"]]

    stale = await api.http.post(
        api.url("/orders"), headers=api.buyer, json={"version": version + 1}
    )
    assert stale.status_code == 409 and stale.json()["error"] == "cycle_refused"
    assert f"v{version + 1} is stale" in stale.json()["detail"]
    unknown = await api.http.post(
        api.url("/orders"), headers=api.buyer, json={"version": version, "containers": [999]}
    )
    assert unknown.status_code == 409 and "no container 999" in unknown.json()["detail"]

    key = {**api.buyer, "Idempotency-Key": "approve-once-1"}
    approved = await api.http.post(api.url("/orders"), headers=key, json={"version": version})
    assert approved.status_code == 201, approved.text
    orders = approved.json()["orders"]
    assert approved.json()["temporal_ui_url"] is None
    assert [o["container_index"] for o in orders] == indexes
    assert all(o["status"] == "submitted" and o["erp_order_number"] for o in orders), orders
    # the client retries (e.g. its connection dropped): the same decision comes back
    retried = await api.http.post(api.url("/orders"), headers=key, json={"version": version})
    assert retried.status_code == 201 and retried.json()["orders"] == orders
    # a new decision is refused: the cycle is no longer waiting (or, once it has ended at
    # the submission, no longer open)
    second = await api.http.post(
        api.url("/orders"),
        headers={**api.buyer, "Idempotency-Key": "approve-once-2"},
        json={"version": version},
    )
    assert second.status_code == 409, second.text
    assert second.json()["error"] in ("cycle_refused", "cycle_closed"), second.text

    await cycle_handle(cycle_stack.client, api.customer_id).result()
    # the retried approval still answers with its first outcome after the cycle closed
    late = await api.http.post(api.url("/orders"), headers=key, json={"version": version})
    assert late.status_code == 201 and late.json()["orders"] == orders, late.text
    submissions = await cycle_stack.submissions(api.erp_code)
    assert len(submissions) == len(indexes)
    actions = await _audit_actions(cycle_stack.sessions, api.customer_id)
    assert actions.count(("recommendation.approved", "user:buyer")) == 1
    assert ("cycle.syncing", "user:buyer") in actions  # the start is the buyer's

    [row] = await _listed(api, "submitted")
    assert row["run_id"] == first.json()["run_id"] and row["status"] == "submitted"
    assert row["finished_at"] is not None
    assert row["temporal_ui_url"] == ops_view["temporal_ui_url"]
    assert (await api.http.get("/api/cycles", headers=api.buyer)).status_code == 403
    bad = await api.http.get("/api/cycles", headers=api.ops, params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"


async def test_refresh_makes_the_old_version_stale_and_reject_ends_the_cycle(
    cycle_stack: CycleStack, api: Api
) -> None:
    assert (await api.http.post(api.url("/cycles"), headers=api.buyer)).status_code == 201
    waiting = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    old = waiting.recommendation.version

    await cycle_stack.advance_erp(days=7)  # a week of consumption: the plan changes
    refreshed = await api.http.post(api.url("/cycles/current/refresh"), headers=api.buyer)
    assert refreshed.status_code == 200, refreshed.text
    state = refreshed.json()["state"]
    assert state["status"] == "awaiting_approval"
    new = state["recommendation"]["version"]
    assert new > old

    stale = await api.http.post(api.url("/orders"), headers=api.buyer, json={"version": old})
    assert stale.status_code == 409 and f"v{old} is stale" in stale.json()["detail"]
    blank = await api.http.post(
        api.url(f"/recommendations/{new}/reject"), headers=api.buyer, json={"reason": "  "}
    )
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    rejected = await api.http.post(
        api.url(f"/recommendations/{new}/reject"),
        headers=api.buyer,
        json={"reason": "stock count pending"},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["state"]["status"] == "rejected"
    assert rejected.json()["state"]["decision"]["actor"] == "user:buyer"

    await cycle_handle(cycle_stack.client, api.customer_id).result()
    current = (await api.http.get(api.url("/cycles/current"), headers=api.buyer)).json()
    assert current["open"] is False and current["status"] == "rejected"
    assert current["state"]["decision"]["reason"] == "stock count pending"
    assert current["record"]["finished_at"] is not None
    closed = await api.http.post(api.url("/orders"), headers=api.buyer, json={"version": new})
    assert closed.status_code == 409 and closed.json()["error"] == "cycle_closed"
    actions = await _audit_actions(cycle_stack.sessions, api.customer_id)
    assert ("recommendation.rejected", "user:buyer") in actions
    assert await cycle_stack.submissions(api.erp_code) == []


async def test_ops_retry_lands_a_rejected_submission_once(
    cycle_stack: CycleStack, api: Api
) -> None:
    assert (await api.http.post(api.url("/cycles"), headers=api.buyer)).status_code == 201
    waiting = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    containers = len(waiting.recommendation.containers)
    with cycle_stack.erp_sim.faults(endpoints=["submit"], reject_code="CREDIT_HOLD"):
        approved = await api.http.post(
            api.url("/orders"), headers=api.buyer, json={"version": waiting.recommendation.version}
        )
        assert approved.status_code == 201, approved.text
        await cycle_stack.wait_for(api.customer_id, CycleStatus.SUBMISSION_FAILED)
    [row] = await _listed(api, "submission_failed")
    assert (
        await api.http.post(f"/api/cycles/{row['id']}/retry", headers=api.buyer)
    ).status_code == 403
    retried = await api.http.post(
        f"/api/cycles/{row['id']}/retry", headers=api.ops, json={"reason": "credit released"}
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"]["decision"]["actor"] == "user:ops"
    await cycle_stack.wait_for(api.customer_id, CycleStatus.SUBMITTED)
    accepted = [s for s in await cycle_stack.submissions(api.erp_code) if s.get("order_number")]
    assert len(accepted) == containers
    await cycle_handle(cycle_stack.client, api.customer_id).result()  # ends at submission
    again = await api.http.post(f"/api/cycles/{row['id']}/cancel", headers=api.ops)
    assert again.status_code == 409 and again.json()["error"] == "cycle_closed", again.text
    assert (await api.http.post("/api/cycles/2147483647/retry", headers=api.ops)).status_code == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_temporal_down_is_503_and_the_api_recovers_by_itself(
    database_url: str, sessions: async_sessionmaker[AsyncSession], task_queue: str
) -> None:
    port = _free_port()
    settings = Settings(
        env=Environment.TEST,
        database_url=database_url,
        temporal_address=f"127.0.0.1:{port}",
        temporal_task_queue=task_queue,
        erp_base_url="http://127.0.0.1:9",
    )
    async with unit_of_work(sessions) as session:
        customer_id = (
            await upsert_customer(session, erp_code="DOWN-1", name="Down", timezone="UTC")
        ).id
    ops = bearer(tokens.issue(settings, await add_user(sessions, "ops", Role.OPS)).token)
    app = create_app(settings)
    url = f"/api/customers/{customer_id}/cycles"
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        for method, tail in (("post", ""), ("get", "/current"), ("post", "/current/refresh")):
            down = await http.request(method, url + tail, headers=ops)
            assert down.status_code == 503, down.text
            assert down.json()["error"] == "dependency_unavailable"
            assert down.json()["detail"].startswith("temporal is unavailable")
        # Temporal comes up on that address; the same app (no restart) now starts the cycle
        env = await WorkflowEnvironment.start_local(
            port=port,
            dev_server_existing_path=str(temporal_cli_path()),
            search_attributes=SEARCH_ATTRIBUTES,
            data_converter=pydantic_data_converter,
            dev_server_log_level="error",
        )
        try:
            up = await http.post(url, headers=ops)
            assert up.status_code == 201, up.text
            assert up.json()["workflow_id"] == f"reorder-cycle-{customer_id}"
            described = await cycle_handle(env.client, customer_id).describe()
            assert described.run_id == up.json()["run_id"]
        finally:
            await env.shutdown()


async def test_a_failed_cycle_shows_failed_everywhere_within_seconds_and_ops_are_told(
    cycle_stack: CycleStack, api: Api, figure: Callable[..., dict[str, Any]]
) -> None:
    """A customer the ERP does not know: the first sync fails for good, the workflow fails.
    The API, the ops list and the search attribute say `failed` (never a stale `syncing`),
    and ops get a message."""
    async with unit_of_work(cycle_stack.sessions) as session:
        lost = await upsert_customer(
            session, erp_code="W-NOT-IN-ERP", name="Customer not in the ERP", timezone="UTC"
        )
    buyer = bearer(
        tokens.issue(
            cycle_stack.settings,
            await add_user(cycle_stack.sessions, "lost-buyer", Role.CUSTOMER, lost.id),
        ).token
    )
    started_at = time.monotonic()
    started = await api.http.post(f"/api/customers/{lost.id}/cycles", headers=buyer)
    assert started.status_code == 201, started.text

    current: dict[str, Any] = {}
    for _ in range(300):
        current = (
            await api.http.get(f"/api/customers/{lost.id}/cycles/current", headers=buyer)
        ).json()
        if (
            current.get("status") == "failed"
            and (current.get("record") or {}).get("status") == "failed"
        ):
            break
        await asyncio.sleep(0.1)
    api_failed_after = time.monotonic() - started_at
    assert current["status"] == "failed", current
    assert current["record"]["status"] == "failed", current
    assert "W-NOT-IN-ERP" in current["record"]["detail"], current  # why, for the buyer too

    params = {"status": "failed", "customer_id": lost.id}
    listed = (await api.http.get("/api/cycles", headers=api.ops, params=params)).json()
    assert [item["customer_id"] for item in listed["items"]] == [lost.id], listed

    query = (
        f'CustomerId="{lost.id}" AND TaskQueue="{cycle_stack.task_queue}" AND CycleStatus="failed"'
    )
    found: list[str] = []
    for _ in range(100):
        found = [w.id async for w in cycle_stack.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [f"reorder-cycle-{lost.id}"]
    searchable_after = time.monotonic() - started_at

    told = await cycle_stack.wait_notified("Reorder cycle failed for Customer not in the ERP")
    assert told.to == [cycle_stack.settings.ops_email]
    assert "W-NOT-IN-ERP" in told.body
    figure(
        api_failed_after_s=round(api_failed_after, 2),
        searchable_after_s=round(searchable_after, 2),
        ops_told=told.subject,
    )
