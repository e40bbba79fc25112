"""OpenTelemetry traces across API → Temporal → workflow → activities → ERP calls, off
unless `RESTOCK_OTLP_ENDPOINT` is set (then exported by OTLP over HTTP).

One approval is one trace: Temporal's OpenTelemetry plugin carries the context in the
headers of every start, Update and activity, and parents a workflow's Update handler on the
Update's caller (the older `TracingInterceptor` parents it on the workflow's start and only
links the caller). The plugin asks OpenTelemetry's global tracer provider, which must be
replay-safe (`create_tracer_provider`): this module sets one, once per process, whose
spans go wherever `install` points them (the OTLP exporter; a test's in-memory exporter).
Parts built after `install` are traced: the Temporal client (and the workers built on it),
the API app (`core.request_spans`) and the ERP's httpx client.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from temporalio.contrib.opentelemetry import OpenTelemetryPlugin, create_tracer_provider

from core.request_spans import RequestSpans
from core.settings import Settings

UNTRACED_PATHS = ("/healthz", "/readyz", "/metrics")


class _Switch(SpanProcessor):
    """The global provider's one processor: hands spans to the installed one, if any."""

    def __init__(self) -> None:
        self.target: SpanProcessor | None = None

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self.target is not None:
            self.target.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.target is not None:
            self.target.on_end(span)

    def shutdown(self) -> None:
        if self.target is not None:
            self.target.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.target.force_flush(timeout_millis) if self.target is not None else True


_switch = _Switch()
_lock = threading.Lock()
_provider_set = False


def _global_provider(service: str, sample_ratio: float) -> None:
    global _provider_set
    with _lock:
        if not _provider_set:
            made = create_tracer_provider(
                sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
                resource=Resource.create({SERVICE_NAME: f"restock-{service}"}),
            )
            made.add_span_processor(_switch)
            trace.set_tracer_provider(made)
            _provider_set = True


def install(
    processor: SpanProcessor | None, service: str = "restock", sample_ratio: float = 1.0
) -> None:
    """Send the spans of parts built from now on to `processor` (None: tracing off);
    `sample_ratio` of the traces, decided by their first span (the process's first call
    fixes it)."""
    if processor is not None:
        _global_provider(service, sample_ratio)
    _switch.target = processor


def enabled() -> bool:
    return _switch.target is not None


def start(settings: Settings, service: str) -> None:
    """At a process's start: export to RESTOCK_OTLP_ENDPOINT when it is set."""
    if settings.otlp_endpoint:
        endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
        exporter = OTLPSpanExporter(endpoint=endpoint)
        install(BatchSpanProcessor(exporter), service, settings.otlp_sample_ratio)


def temporal_plugins() -> list[Any]:
    """Temporal's OpenTelemetry plugin for a client (its workers take it from the client)."""
    return [OpenTelemetryPlugin(add_temporal_spans=True)] if enabled() else []


def instrument_app(app: FastAPI) -> None:
    """One span per request, outside every other middleware (call it last)."""
    if enabled():
        app.add_middleware(
            RequestSpans,
            tracer=trace.get_tracer("restock.api"),
            excluded_paths=UNTRACED_PATHS,
        )


def instrument_http(client: httpx.AsyncClient) -> None:
    if enabled():
        HTTPXClientInstrumentor.instrument_client(client)
