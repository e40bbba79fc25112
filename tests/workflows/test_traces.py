"""One approval is one trace: the API's HTTP request → the Temporal Update → the workflow →
the activity → the ERP call, captured with the OpenTelemetry SDK's in-memory exporter."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.notifier import LogNotifier
from api.auth import tokens
from core.settings import Settings
from core.temporal import connect
from store.models import Role
from tests.api.conftest import add_user, bearer
from tests.plugins.erp_sim import ErpSim
from tests.workflows.conftest import CycleStack, terminate_open_workflows
from webapp import create_app
from worker import running_worker
from workflows.contract.cycle import CycleStatus


def _ancestry(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = [span]
    while chain[-1].parent is not None and chain[-1].parent.span_id in by_id:
        chain.append(by_id[chain[-1].parent.span_id])
    return chain


async def test_one_approval_is_one_trace_from_the_http_request_to_the_erp_call(
    spans: InMemorySpanExporter,
    temporal_client: Client,
    app_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    erp_sim: ErpSim,
    task_queue: str,
) -> None:
    settings = erp_sim.settings(
        database_url=app_settings.database_url,
        temporal_address=app_settings.temporal_address,
        temporal_task_queue=task_queue,
    )
    await terminate_open_workflows(temporal_client, None)
    client = await connect(settings)  # built after tracing was installed: it is traced
    stack = CycleStack(client, settings, sessions, task_queue, erp_sim, LogNotifier())
    customer_id, erp_code = await stack.new_customer()
    user = await add_user(sessions, "buyer", Role.CUSTOMER, customer_id)
    buyer = bearer(tokens.issue(settings, user).token)
    app = create_app(settings)
    async with (
        running_worker(settings, client, task_queue=task_queue),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api,
    ):
        started = await api.post(f"/api/customers/{customer_id}/cycles", headers=buyer)
        assert started.status_code == 201, started.text
        await stack.wait_for(customer_id, CycleStatus.AWAITING_APPROVAL)
        current = await api.get(f"/api/customers/{customer_id}/cycles/current", headers=buyer)
        version = current.json()["state"]["recommendation"]["version"]
        spans.clear()
        approved = await api.post(
            f"/api/customers/{customer_id}/orders", headers=buyer, json={"version": version}
        )
        assert approved.status_code == 201, approved.text
        containers = len(approved.json()["orders"])
        assert len(await stack.submissions(erp_code)) == containers
    await terminate_open_workflows(temporal_client, task_queue)

    finished = list(spans.get_finished_spans())
    by_id = {s.context.span_id: s for s in finished}
    request = [
        s
        for s in finished
        if s.kind is SpanKind.SERVER
        and (s.attributes or {}).get("http.route") == "/api/customers/{customer_id}/orders"
    ]
    assert len(request) == 1, [s.name for s in finished]
    erp_calls = [
        s
        for s in finished
        if s.kind is SpanKind.CLIENT
        and (s.attributes or {}).get("http.request.method", s.attributes.get("http.method"))
        == "POST"
        and erp_code in str((s.attributes or {}).get("url.full", s.attributes.get("http.url")))
    ]
    assert len(erp_calls) == containers, [s.name for s in finished]
    for call in erp_calls:
        chain = _ancestry(call, by_id)
        assert chain[-1] is request[0], [s.name for s in chain]
        assert {s.context.trace_id for s in chain} == {request[0].context.trace_id}
        assert [s.name for s in reversed(chain)][1:-1] == [
            "StartWorkflowUpdate:approve",
            "HandleUpdate:approve",
            "StartActivity:approve_and_submit",
            "RunActivity:approve_and_submit",
        ]
