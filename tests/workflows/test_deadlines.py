"""Calls into a cycle have an overall deadline (RESTOCK_TEMPORAL_RPC_TIMEOUT_SECONDS): with no
worker running, an approval answers 202 (pending) instead of hanging, and the same
Idempotency-Key later returns the decision's real outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.notifier import LogNotifier
from api.auth import tokens
from core.settings import Settings
from store.models import Role
from tests.api.conftest import add_user, bearer
from tests.plugins.erp_sim import ErpSim
from tests.workflows.conftest import CycleStack, terminate_open_workflows
from webapp import create_app
from worker import running_worker
from workflows.contract.cycle import CycleStatus

Figure = Callable[..., dict[str, Any]]
DEADLINE_S = 2.0


async def test_with_no_worker_an_approval_answers_pending_and_its_key_finds_the_outcome(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    erp_sim: ErpSim,
    task_queue: str,
    figure: Figure,
) -> None:
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
        temporal_rpc_timeout_seconds=DEADLINE_S,
    )
    stack = CycleStack(temporal_client, settings, sessions, task_queue, erp_sim, LogNotifier())
    customer_id, erp_code = await stack.new_customer()
    async with running_worker(settings, temporal_client, task_queue=task_queue):
        await stack.start(customer_id)
        waiting = await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
    assert waiting.recommendation is not None
    # The worker is gone now.
    user = await add_user(sessions, "buyer", Role.CUSTOMER, customer_id)
    headers = {**bearer(tokens.issue(settings, user).token), "Idempotency-Key": "approve-1"}
    body = {"version": waiting.recommendation.version}
    url = f"/api/customers/{customer_id}/orders"
    app = create_app(settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://api"
            ) as http,
        ):
            loop = asyncio.get_running_loop()
            started = loop.time()
            pending = await http.post(url, headers=headers, json=body)
            answered_after = loop.time() - started
            assert pending.status_code == 202, pending.text
            assert pending.json()["error"] == "decision_pending"
            assert "same Idempotency-Key" in pending.json()["detail"]
            assert await stack.submissions(erp_code) == []

            async with running_worker(settings, temporal_client, task_queue=task_queue):
                # As a client would: follow up with the same key until the outcome is known
                # (under load a follow-up may itself meet the deadline and answer 202 again).
                for _ in range(30):
                    outcome = await http.post(url, headers=headers, json=body)
                    if outcome.status_code != 202:
                        break
                assert outcome.status_code == 201, outcome.text
                orders = outcome.json()["orders"]
                assert orders and all(o["erp_order_number"] for o in orders)
                again = await http.post(url, headers=headers, json=body)
                assert again.status_code == 201 and again.json()["orders"] == orders
                submitted = await stack.wait_for(customer_id, CycleStatus.SUBMITTED)
        submissions = await stack.submissions(erp_code)
        assert sorted(s["idempotency_key"] for s in submissions) == sorted(
            o.idempotency_key for o in submitted.orders
        )
    finally:
        await terminate_open_workflows(temporal_client, task_queue)
    figure(
        deadline_s=DEADLINE_S,
        no_worker_answer=pending.status_code,
        answered_after_s=round(answered_after, 2),
        outcome_by_key=outcome.status_code,
        erp_orders=len(submissions),
    )
