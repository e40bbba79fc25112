"""One server span per HTTP request, named after the route that answered it.

OpenTelemetry's FastAPI instrumentation finds a request's route by matching the URL against
every route of the app again (before the app routes it) and computes a dozen attributes per
request; on this API that was most of tracing's cost, and it is paid for unsampled requests
too. This middleware starts the span before the app, reads the route the router itself
chose (`scope["route"]`, as `api.metrics.RequestMetrics` does) when the answer is out, and
records the few attributes an operator searches by.
"""

from __future__ import annotations

from collections.abc import Collection

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROPAGATION_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class RequestSpans:
    def __init__(
        self, app: ASGIApp, tracer: trace.Tracer, excluded_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self.tracer = tracer
        self.excluded_paths = frozenset(excluded_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded_paths:
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in PROPAGATION_HEADERS
        }
        method: str = scope["method"]
        status = 500

        async def send_noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            method,
            context=propagate.extract(carrier) if carrier else None,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": scope["path"],
                "url.scheme": scope.get("scheme", "http"),
            },
            record_exception=True,
            set_status_on_exception=True,
        ) as span:
            try:
                await self.app(scope, receive, send_noted)
            finally:
                if span.is_recording():
                    route = getattr(scope.get("route"), "path", None)
                    if route:
                        span.update_name(f"{method} {route}")
                        span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
