"""`/metrics` of a live API and a live worker (`python worker.py`, its own process, as
production runs it) move around one cycle: started, planned, approved, sent to the ERP; and
the worker's JSON log lines name the workflow, run and customer they were written for."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.notifier import LogNotifier
from api.auth import tokens
from bench.worker_process import worker_process
from core.settings import Settings
from store.models import Role
from tests.api.conftest import add_user, bearer
from tests.plugins.erp_sim import ErpSim
from tests.plugins.ports import free_port
from tests.workflows.conftest import CycleStack, terminate_open_workflows
from webapp import create_app
from workflows.contract.cycle import CycleStatus

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value, 0 when it does not exist yet (a counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


async def test_api_and_worker_metrics_move_around_one_cycle(
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    erp_sim: ErpSim,
    task_queue: str,
    tmp_path: Path,
) -> None:
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
    )
    ours, sdk = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    env = {
        "RESTOCK_WORKER_METRICS_ADDRESS": ours,
        "RESTOCK_TEMPORAL_METRICS_ADDRESS": sdk,
        "RESTOCK_LOG_FORMAT": "json",
    }
    stack = CycleStack(temporal_client, settings, sessions, task_queue, erp_sim, LogNotifier())
    await terminate_open_workflows(temporal_client, None)  # ids repeat across the databases
    customer_id, erp_code = await stack.new_customer()
    buyer = bearer(
        tokens.issue(settings, await add_user(sessions, "buyer", Role.CUSTOMER, customer_id)).token
    )
    app = create_app(settings)
    async with (
        worker_process(settings, tmp_path / "worker.log", env),  # `python worker.py`
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api,
        httpx.AsyncClient(timeout=5) as scrape,
    ):

        async def scraped() -> tuple[Samples, Samples, Samples]:
            answers = [
                await api.get("/metrics"),
                await scrape.get(f"http://{ours}/metrics"),
                await scrape.get(f"http://{sdk}/metrics"),
            ]
            for answer in answers:
                assert answer.status_code == 200, answer.text
                assert answer.headers["content-type"].startswith("text/plain")
            api_s, worker_s, sdk_s = (parse(a.text) for a in answers)
            return api_s, worker_s, sdk_s

        api_before, worker_before, sdk_before = await scraped()
        started = await api.post(f"/api/customers/{customer_id}/cycles", headers=buyer)
        assert started.status_code == 201, started.text
        await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
        current = await api.get(f"/api/customers/{customer_id}/cycles/current", headers=buyer)
        version = current.json()["state"]["recommendation"]["version"]
        approved = await api.post(
            f"/api/customers/{customer_id}/orders", headers=buyer, json={"version": version}
        )
        assert approved.status_code == 201, approved.text
        containers = len(approved.json()["orders"])
        assert containers >= 1
        assert len(await stack.submissions(erp_code)) == containers
        api_after, worker_after, sdk_after = await scraped()
    await terminate_open_workflows(temporal_client, task_queue)
    # RESTOCK_LOG_FORMAT=json: every line of the worker is a JSON object, and the lines its
    # activities wrote name the workflow, its run and the customer.
    lines = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines()]
    assert all(line["service"] == "worker" for line in lines)
    in_cycle = [line for line in lines if line["workflow_id"] == f"reorder-cycle-{customer_id}"]
    assert in_cycle, lines
    assert all(line["run_id"] and line["customer"] == str(customer_id) for line in in_cycle)

    route = "/api/customers/{customer_id}/cycles"
    assert (
        value(api_after, "restock_http_requests_total", route=route, method="POST", status="201")
        - value(api_before, "restock_http_requests_total", route=route, method="POST", status="201")
        == 1
    )
    latency = "restock_http_request_duration_seconds_count"
    assert (
        value(api_after, latency, route=route, method="POST")
        - value(api_before, latency, route=route, method="POST")
        == 1
    )
    # The path's customer id never becomes a label: one series per route template.
    assert not any(str(customer_id) in dict(labels).get("route", "") for _, labels in api_after)

    def moved(name: str, **labels: str) -> float:
        return value(worker_after, name, **labels) - value(worker_before, name, **labels)

    assert moved("restock_cycles_total", status="awaiting_approval") == 1
    assert moved("restock_decisions_total", decision="approved") == 1
    assert moved("restock_submissions_total", outcome="submitted") == containers
    assert moved("restock_erp_requests_total", endpoint="submit", outcome="ok") == containers
    assert moved("restock_erp_request_duration_seconds_count", endpoint="submit") == containers
    assert moved("restock_erp_requests_total", endpoint="products", outcome="ok") >= 1
    assert moved("restock_planning_duration_seconds_count", size="up_to_100") == 1
    assert value(worker_after, "restock_planning_duration_seconds_sum", size="up_to_100") > 0
    # The Temporal SDK's own: workflow tasks and activities ran in this worker.
    for name in (
        "temporal_workflow_task_execution_latency_seconds_count",
        "temporal_activity_execution_latency_seconds_count",
        "temporal_local_activity_execution_latency_seconds_count",
    ):
        assert total(sdk_after, name) > total(sdk_before, name), name
