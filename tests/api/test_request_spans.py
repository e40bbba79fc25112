"""The API's request spans (tracing on): one per request, named by the route that answered,
child of the caller's trace, none for the probes, errors marked."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from core.request_spans import RequestSpans
from core.settings import Settings
from webapp import create_app

CALLER_TRACE = 0x0AF7651916CD43DD8448EB211C80319C
CALLER_SPAN = 0xB7AD6B7169203331


def _server_spans(exporter: InMemorySpanExporter, tracer: str) -> list[ReadableSpan]:
    """The request spans of `tracer`: a stray span from elsewhere in the process (a workflow
    of an earlier test ending when collected) is not this test's."""
    return [
        s
        for s in exporter.get_finished_spans()
        if s.kind is SpanKind.SERVER
        and s.instrumentation_scope is not None
        and s.instrumentation_scope.name == tracer
    ]


async def test_a_request_is_one_span_named_by_its_route_in_the_callers_trace(
    spans: InMemorySpanExporter, app_settings: Settings
) -> None:
    app = create_app(app_settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as api,
    ):
        refused = await api.get(
            "/api/customers/41/dashboard",
            headers={"traceparent": f"00-{CALLER_TRACE:032x}-{CALLER_SPAN:016x}-01"},
        )
        assert refused.status_code == 401
        await api.get("/healthz")
        await api.get("/metrics")
        missing = await api.get("/no/such/page")
        assert missing.status_code == 404

    dashboard, unmatched = _server_spans(spans, "restock.api")
    assert dashboard.name == "GET /api/customers/{customer_id}/dashboard"
    attributes = dict(dashboard.attributes or {})
    assert attributes["http.route"] == "/api/customers/{customer_id}/dashboard"
    assert attributes["url.path"] == "/api/customers/41/dashboard"
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 401
    assert dashboard.status.status_code is StatusCode.UNSET  # a refusal is not a fault
    assert dashboard.context.trace_id == CALLER_TRACE
    assert dashboard.parent is not None and dashboard.parent.span_id == CALLER_SPAN

    assert unmatched.name == "GET" and "http.route" not in (unmatched.attributes or {})
    assert (unmatched.attributes or {})["http.response.status_code"] == 404
    assert unmatched.context.trace_id != CALLER_TRACE  # no traceparent: a trace of its own


async def test_a_request_that_fails_is_an_error_span_with_the_exception(
    spans: InMemorySpanExporter,
) -> None:
    app = FastAPI(telemetry={"tracing": False})  # as the API: spans are RequestSpans' only

    @app.get("/boom/{n}")
    async def boom(n: int) -> None:
        raise RuntimeError(f"boom {n}")

    app.add_middleware(RequestSpans, tracer=trace.get_tracer("test"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as api:
        assert (await api.get("/boom/3")).status_code == 500

    (span,) = _server_spans(spans, "test")
    assert span.name == "GET /boom/{n}"
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["http.response.status_code"] == 500
    assert [e.name for e in span.events] == ["exception"]
    assert "boom 3" in str((span.events[0].attributes or {})["exception.message"])
