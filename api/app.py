"""The FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.customer_api import install_customer_api
from api.docs import docs_enabled, install_docs
from api.errors import install_error_handlers
from api.limits import BodyLimit
from api.metrics import RequestMetrics
from api.metrics import router as metrics_router
from api.query_params import single_query_values
from api.resources import open_resources
from api.routes import health
from api.security_headers import SecurityHeaders
from core import tracing
from core.process import tune_gc_for_service
from core.settings import Environment, Settings, get_settings


def create_app(
    settings: Settings | None = None,
    *,
    owns_process: bool = False,
    mount: Sequence[Callable[[FastAPI], None]] = (),
) -> FastAPI:
    """The JSON API, with what `mount` adds (`webapp.create_app` mounts the portal).

    `owns_process`: the app is all the process runs (`restock api`), so what exists once it
    has started is frozen out of the garbage collector (`tune_gc_for_service`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            app.state.resources = resources
            if owns_process:
                tune_gc_for_service()
            yield

    app = FastAPI(
        title="Restock API",
        version="0.1.0",
        description="Container reorder automation: stock health, recommendations, approvals.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs_enabled(settings) else None,
        dependencies=[Depends(single_query_values)],
        # FastAPI's own OpenTelemetry spans and metrics start as soon as a tracer provider
        # exists, with a span per dependency and endpoint, at a third more CPU than
        # core.request_spans' one span per request; the request metrics are api.metrics'.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_docs(app, settings)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders, hsts=settings.env is Environment.PRODUCTION)
    install_error_handlers(app)  # outside those: a refusal of the body has a request id too
    if settings.request_metrics:  # outside the error handlers: refusals are counted too
        app.add_middleware(RequestMetrics)
    if settings.cors_origin_list:
        # Separate frontends call with Bearer tokens: no credentials (cookies) cross-origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After", "Location"],
            max_age=600,
        )
    app.include_router(health.router)
    app.include_router(metrics_router)
    install_customer_api(app)
    for install in mount:
        install(app)
    document_body_errors(app)
    tracing.instrument_app(app)
    return app


def document_body_errors(app: FastAPI) -> None:
    """Every operation that reads a body may answer 400 (unreadable) and 413 (too large):
    documented once, in the generated schema, rather than on each route."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    for status, doc in BODY_ERRORS.items():
                        operation["responses"].setdefault(status, doc)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _error_doc(description: str, code: str, detail: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorBody"},
                "example": {"error": code, "detail": detail, "field": None},
            }
        },
    }


BODY_ERRORS = {
    "400": _error_doc(
        "The body could not be read (not JSON, or not UTF-8)",
        "unreadable_body",
        "There was an error parsing the body",
    ),
    "413": _error_doc(
        "The body is larger than RESTOCK_MAX_REQUEST_BYTES",
        "payload_too_large",
        "the request body is larger than 1,048,576 bytes (RESTOCK_MAX_REQUEST_BYTES)",
    ),
}
