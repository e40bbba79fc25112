"""`/metrics` for Prometheus, and the middleware that counts and times every request by its
route's template (`/api/customers/{customer_id}/products`, never the path itself)."""

from __future__ import annotations

import functools
import hmac
import time

from fastapi import APIRouter, Request, Response
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import ResourcesDep
from core.errors import Unauthorized
from core.metrics import HTTP_LATENCY, HTTP_REQUESTS, exposition

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Any other method a client sends is counted as OTHER: no caller can grow the series."""

router = APIRouter(tags=["health"])


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            counter, histogram = _series(route, method, status)
            counter.inc()
            histogram.observe(time.perf_counter() - started)


@functools.cache
def _series(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    """The labelled series of one answer kind, looked up once (`labels` takes a lock and
    checks its arguments on every call); routes and statuses are closed sets."""
    return HTTP_REQUESTS.labels(route, method, str(status)), HTTP_LATENCY.labels(route, method)


@router.get(
    "/metrics",
    summary="Prometheus metrics of this API process",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 401: {"description": "token required"}},
)
async def metrics(request: Request, resources: ResourcesDep) -> Response:
    token = resources.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("/metrics needs the metrics token: Authorization: Bearer <token>")
    body, content_type = exposition()
    return Response(body, media_type=content_type)
