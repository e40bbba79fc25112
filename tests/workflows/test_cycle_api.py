"""The cycle action routes end to end: the API in-process, a real dev server, worker and ERP.

Start (201, then 200 with the open one), read the current cycle, approve with an
Idempotency-Key (a retry is one decision), refusals as 409, reject, refresh, ops list with
Temporal UI links, ops retry after a business rejection, and 503 while Temporal is down.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.auth import tokens
from core.errors import Conflict
from core.settings import Environment, Settings
from core.temporal import SEARCH_ATTRIBUTES, temporal_cli_path
from services.accounts import ApprovalGrant
from services.cycle_control import cycle_handle, send_update
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import AuditEntry, Role
from tests.api.conftest import add_user, bearer
from tests.plugins.ports import free_port
from tests.workflows.conftest import CycleStack
from webapp import create_app
from workflows.contract import names
from workflows.contract.cycle import ApproveRequest, ApproveResult, Authority, CycleStatus


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


async def _current_once_recorded(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], status: str
) -> dict[str, Any]:
    """`GET .../cycles/current` once the stored record says `status` too: the workflow's
    state moves first and its `record_cycle` activity writes the record just after."""
    current: dict[str, Any] = {}
    for _ in range(300):
        current = (await http.get(path, headers=headers)).json()
        if (
            current.get("status") == status
            and (current.get("record") or {}).get("status") == status
        ):
            break
        await asyncio.sleep(0.1)
    return current


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
    current = await _current_once_recorded(
        api.http, api.url("/cycles/current"), api.buyer, "awaiting_approval"
    )
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


async def test_temporal_down_is_503_and_the_api_recovers_by_itself(
    database_url: str, sessions: async_sessionmaker[AsyncSession], task_queue: str
) -> None:
    port = free_port()
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

    current = await _current_once_recorded(
        api.http, f"/api/customers/{lost.id}/cycles/current", buyer, "failed"
    )
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


async def test_a_credit_hold_at_the_sync_refuses_approval_until_ops_override_with_a_reason(
    cycle_stack: CycleStack, api: Api
) -> None:
    async with cycle_stack.erp_sim.admin() as admin:
        held = await admin.patch(f"/admin/customers/{api.erp_code}", json={"credit_status": "hold"})
        assert held.status_code == 204, held.text
    assert (await api.http.post(api.url("/cycles"), headers=api.buyer)).status_code == 201
    waiting = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    rec = waiting.recommendation
    assert rec is not None and rec.credit_hold
    version = {"version": rec.version}

    refused = await api.http.post(api.url("/orders"), headers=api.buyer, json=version)
    assert refused.status_code == 409, refused.text
    assert "credit on hold" in refused.json()["detail"]
    assert "ask the supplier's accounts team" in refused.json()["detail"]
    not_theirs = await api.http.post(
        api.url("/orders"), headers=api.buyer, json={**version, "credit_override": "I promise"}
    )
    assert not_theirs.status_code == 403 and not_theirs.json()["field"] == "credit_override"
    blank = await api.http.post(
        api.url("/orders"), headers=api.ops, json={**version, "credit_override": ""}
    )
    assert blank.status_code == 422 and blank.json()["field"] == "credit_override"
    assert await cycle_stack.submissions(api.erp_code) == []  # nothing reached the ERP
    still = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    assert still.decision is None

    # The supplier's credit team releases it at the ERP; ops approve before the next sync.
    async with cycle_stack.erp_sim.admin() as admin:
        released = await admin.patch(
            f"/admin/customers/{api.erp_code}", json={"credit_status": "ok"}
        )
        assert released.status_code == 204, released.text
    reason = "payment received by wire this morning"
    approved = await api.http.post(
        api.url("/orders"), headers=api.ops, json={**version, "credit_override": reason}
    )
    assert approved.status_code == 201, approved.text
    submitted = await cycle_stack.wait_for(api.customer_id, CycleStatus.SUBMITTED)
    assert len(await cycle_stack.submissions(api.erp_code)) == len(rec.containers)
    assert submitted.decision is not None and submitted.decision.actor == "user:ops"
    assert submitted.decision.reason == f"approved over the ERP's credit hold: {reason}"
    async with cycle_stack.sessions() as session:
        details = await session.scalar(
            select(AuditEntry.details).where(
                AuditEntry.customer_id == api.customer_id,
                AuditEntry.action == "recommendation.approved",
            )
        )
    assert details is not None and details["credit_override"] == reason


async def test_an_approval_over_the_credit_limit_is_refused_and_what_fits_lands_once(
    cycle_stack: CycleStack, api: Api
) -> None:
    # Three times the default demand: two containers or more, whatever the generated data.
    customer_id, erp_code = await cycle_stack.new_customer(monthly_cartons=120_000)
    buyer = await add_user(cycle_stack.sessions, "big-buyer", Role.CUSTOMER, customer_id)
    headers = bearer(tokens.issue(cycle_stack.settings, buyer).token)
    api = Api(api.http, customer_id, erp_code, headers, api.other_buyer, api.ops)
    # Plan once to learn the containers' values, then give the account exactly the credit
    # the first container needs, and plan again at that sync.
    assert (await api.http.post(api.url("/cycles"), headers=api.buyer)).status_code == 201
    first = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    assert first.recommendation is not None and len(first.recommendation.containers) >= 2
    worth = first.recommendation.containers[0].value
    assert worth is not None and worth > 0
    async with cycle_stack.erp_sim.admin() as admin:
        limited = await admin.patch(
            f"/admin/customers/{api.erp_code}",
            json={"credit_limit": str(worth + 1), "open_balance": "1.00"},
        )
        assert limited.status_code == 204, limited.text
    refreshed = await api.http.post(api.url("/cycles/current/refresh"), headers=api.buyer)
    assert refreshed.status_code == 200, refreshed.text
    state = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    rec = state.recommendation
    assert rec is not None and rec.available_credit == worth
    assert [c.value for c in rec.containers] == [c.value for c in first.recommendation.containers]

    refused = await api.http.post(
        api.url("/orders"), headers=api.buyer, json={"version": rec.version}
    )
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert f"over the {worth:,.2f} EUR of credit left" in detail
    assert f"container 1 fits ({worth:,.2f} EUR): approve it" in detail
    assert await cycle_stack.submissions(api.erp_code) == []

    approved = await api.http.post(
        api.url("/orders"), headers=api.buyer, json={"version": rec.version, "containers": [1]}
    )
    assert approved.status_code == 201, approved.text
    submitted = await cycle_stack.wait_for(api.customer_id, CycleStatus.SUBMITTED)
    assert [o.container_index for o in submitted.orders] == [1]
    assert len(await cycle_stack.submissions(api.erp_code)) == 1


async def test_an_order_placed_is_confirmed_with_erp_numbers_and_values(
    cycle_stack: CycleStack, api: Api
) -> None:
    assert (await api.http.post(api.url("/cycles"), headers=api.buyer)).status_code == 201
    waiting = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    rec = waiting.recommendation
    assert rec is not None
    approved = await api.http.post(
        api.url("/orders"), headers=api.buyer, json={"version": rec.version}
    )
    assert approved.status_code == 201, approved.text
    submitted = await cycle_stack.wait_for(api.customer_id, CycleStatus.SUBMITTED)

    link = f"/recommendations/{rec.version}/confirmation.xlsx"
    document = await api.http.get(api.url(link), headers=api.buyer)
    assert document.status_code == 200, document.text
    book = openpyxl.load_workbook(io.BytesIO(document.content), read_only=True)
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    header = rows.index(next(r for r in rows if r and r[0] == "Container"))
    body = rows[header + 1 :]
    lines = [r for r in body if r[3]]
    total = body[-1]
    assert total[4] == "Total placed" and total[5] == sum(o.cartons for o in submitted.orders)
    assert {r[8] for r in lines} <= {"submitted", "in_transit"}
    assert sum(Decimal(str(r[7])) for r in lines) == Decimal(str(total[7]))
    expected = Decimal(0)
    for order in submitted.orders:
        assert order.erp_order_number
        state = cycle_stack.erp_sim.world.customer(api.erp_code)
        erp = state.orders[order.erp_order_number]
        mine = [r for r in lines if r[1] == order.erp_order_number]
        assert {r[3]: r[5] for r in mine} == {state.codes[i]: q for i, q in erp.lines}
        expected += sum(Decimal(str(r[7])) for r in mine)
    assert (
        expected
        == Decimal(str(total[7]))
        == sum((c.value or Decimal(0) for c in rec.containers), Decimal(0))
    )

    placed = [m for m in cycle_stack.notifier.sent if m.subject.startswith("Order placed")]
    for _ in range(100):
        placed = [m for m in cycle_stack.notifier.sent if m.subject.startswith("Order placed")
                  and f"customers/{api.customer_id}" in m.body]  # fmt: skip
        if placed:
            break
        await asyncio.sleep(0.1)
    assert len(placed) == 1, cycle_stack.notifier.sent
    text = placed[0].body
    for order in submitted.orders:
        assert f"Container {order.container_index}: ERP order {order.erp_order_number}," in text
    assert f"Total: {sum(o.cartons for o in submitted.orders):,} cartons, €{expected:,.2f}" in text
    assert f"{link}" in text

    assert link.replace(".xlsx", ".pdf") in text

    printed = await api.http.get(api.url(link.replace(".xlsx", ".pdf")), headers=api.buyer)
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    assert (
        f'order-confirmation-{api.erp_code}-v{rec.version}.pdf"'
        in (printed.headers["content-disposition"])
    )
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(printed.content)).pages)
    for order in submitted.orders:
        assert f"ERP order {order.erp_order_number}" in pdf_text
    for row in lines:
        assert row[3] in pdf_text
    placed_cartons = sum(o.cartons for o in submitted.orders)
    assert f"Total placed: {placed_cartons:,} cartons, {expected:,.2f} EUR" in pdf_text

    other = await api.http.get(api.url(link), headers=api.other_buyer)
    assert other.status_code == 404
    other_pdf = await api.http.get(api.url(link.replace(".xlsx", ".pdf")), headers=api.other_buyer)
    assert other_pdf.status_code == 404
    never = await api.http.get(
        api.url(f"/recommendations/{rec.version + 5}/confirmation.xlsx"), headers=api.buyer
    )
    assert never.status_code == 404 and never.json()["field"] == "version"


async def test_a_choice_above_the_buyers_limit_waits_for_an_approver_and_lands_once(
    cycle_stack: CycleStack, api: Api
) -> None:
    sessions, settings = cycle_stack.sessions, cycle_stack.settings

    async def user(name: str, grant: ApprovalGrant) -> dict[str, str]:
        added = await add_user(sessions, name, Role.CUSTOMER, api.customer_id, grant)
        return bearer(tokens.issue(settings, added).token)

    one_euro = Decimal("1.00")
    buyer = await user("small-buyer", ApprovalGrant(customer_role="buyer", approval_limit=one_euro))
    viewer = await user("viewer", ApprovalGrant(customer_role="viewer"))
    low = await user(
        "low-approver",
        ApprovalGrant(customer_role="approver", approval_limit=one_euro, email="low@example.com"),
    )
    approver = await user(
        "approver", ApprovalGrant(customer_role="approver", email="approver@example.com")
    )
    assert (await api.http.post(api.url("/cycles"), headers=buyer)).status_code == 201
    state = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    rec = state.recommendation
    assert rec is not None
    choice = {"version": rec.version, "containers": [rec.containers[0].index]}
    worth = rec.containers[0].value
    assert worth is not None and worth > one_euro

    # A viewer reads, and decides nothing; a buyer may not reject.
    for path, body in [("/orders", choice), ("/proposals", choice)]:
        refused = await api.http.post(api.url(path), headers=viewer, json=body)
        assert refused.status_code == 403 and refused.json()["error"] == "role_forbidden"
    draft = await api.http.patch(
        api.url(f"/recommendations/{rec.version}/draft"), headers=viewer, json={"edits": {}}
    )
    assert draft.status_code == 403, draft.text
    not_buyers = await api.http.post(
        api.url(f"/recommendations/{rec.version}/reject"), headers=buyer, json={"reason": "no"}
    )
    assert not_buyers.status_code == 403 and "approver role" in not_buyers.json()["detail"]

    # Above the buyer's limit the approval is refused (nothing at the ERP) and proposed.
    over = await api.http.post(api.url("/orders"), headers=buyer, json=choice)
    assert over.status_code == 403, over.text
    assert over.json()["error"] == "over_approval_limit"
    assert over.json()["field"] == "approval_limit"
    assert f"worth {worth:,.2f} EUR, above your approval limit of 1.00 EUR" in over.json()["detail"]
    proposed = await api.http.post(api.url("/proposals"), headers=buyer, json=choice)
    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()["state"]["proposal"]
    assert (
        proposal["actor"] == "user:small-buyer" and proposal["containers"] == choice["containers"]
    )
    assert Decimal(proposal["value"]) == worth
    assert await cycle_stack.submissions(api.erp_code) == []

    # Only the approvers whose limit covers it are told.
    told = await cycle_stack.wait_notified("Waiting for an approver")
    assert told.to == ["approver@example.com"]
    assert f"user:small-buyer proposes containers {choice['containers'][0]}" in told.body

    # The cycle itself holds the line, whatever the caller claims to the API.
    with pytest.raises(Conflict, match="approval_limit: the containers chosen are worth"):
        await send_update(
            cycle_stack.client,
            api.customer_id,
            names.APPROVE,
            ApproveRequest(
                **choice,
                actor="user:small-buyer",
                authority=Authority(role="buyer", limit=one_euro),
            ),
            result_type=ApproveResult,
        )
    too_low = await api.http.post(api.url("/orders"), headers=low, json=choice)
    assert too_low.status_code == 403 and too_low.json()["error"] == "over_approval_limit"

    approved = await api.http.post(
        api.url("/orders"), headers={**approver, "Idempotency-Key": "p-1"}, json=choice
    )
    assert approved.status_code == 201, approved.text
    again = await api.http.post(
        api.url("/orders"), headers={**approver, "Idempotency-Key": "p-1"}, json=choice
    )
    assert again.status_code == 201 and again.json() == approved.json()
    submitted = await cycle_stack.wait_for(api.customer_id, CycleStatus.SUBMITTED)
    assert submitted.decision is not None and submitted.decision.actor == "user:approver"
    assert submitted.decision.reason == "proposed by user:small-buyer"
    assert len(await cycle_stack.submissions(api.erp_code)) == 1
    actions = await _audit_actions(sessions, api.customer_id)
    assert ("recommendation.proposed", "user:small-buyer") in actions
    assert ("recommendation.approved", "user:approver") in actions
