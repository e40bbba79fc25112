"""The ERP simulator app: the ERP API, the admin API, fault injection and the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from core.request_ids import RequestIds
from erp.simulator import admin, api
from erp.simulator.api import ErpHttpError
from erp.simulator.clock import SimClock
from erp.simulator.faults import FaultMiddleware, error_body
from erp.simulator.listings import Listings
from erp.simulator.traffic import TrafficMeter, TrafficMiddleware
from erp.simulator.webhooks import WebhookPusher
from erp.simulator.world import SimWorld

DESCRIPTION = """A stand-in for the supplier's ERP, with realistic data and fault injection.

ERP endpoints live under `/api/v1` and need the `X-Api-Key` header; the admin API under
`/admin` needs `X-Admin-Key`. Errors are `{"ERR_CD": ..., "ERR_MSG": ...}`.
See docs/erp-api.md.
"""


def create_app(
    world: SimWorld | None = None,
    *,
    api_key: str,
    admin_key: str,
    days_per_minute: float = 0.0,
    seed: int = 42,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> FastAPI:
    """`webhook_url` (with `webhook_secret`): where order events of orders placed through
    the API are pushed, signed; none: nothing is pushed."""
    world = world if world is not None else SimWorld.demo(seed, date.today())
    if webhook_url and not webhook_secret:
        raise ValueError("a webhook URL needs the secret to sign the pushes with")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clock = SimClock(world, days_per_minute=days_per_minute) if days_per_minute > 0 else None
        pusher = None
        if webhook_url and webhook_secret:
            pusher = WebhookPusher(world, url=webhook_url, secret=webhook_secret)
            pusher.start()
        app.state.pusher = pusher
        if clock is not None:
            clock.start()
        try:
            yield
        finally:
            if clock is not None:
                clock.stop()
            if pusher is not None:
                await pusher.stop()

    app = FastAPI(
        title="Restock ERP simulator", version="1", description=DESCRIPTION, lifespan=lifespan
    )
    app.state.world = world
    app.state.listings = Listings(world)
    app.state.api_key = api_key
    app.state.admin_key = admin_key
    app.state.pusher = None
    app.state.traffic = TrafficMeter()
    app.include_router(api.router)
    app.include_router(admin.router)
    app.add_middleware(FaultMiddleware, faults=world.faults)
    app.add_middleware(RequestIds)
    app.add_middleware(TrafficMiddleware, meter=app.state.traffic)

    @app.exception_handler(ErpHttpError)
    async def erp_error(request: Request, exc: ErpHttpError) -> Response:
        return Response(
            error_body(exc.code, exc.message), status_code=exc.status, media_type="application/json"
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return Response(
            error_body("E_BAD_REQUEST", problems), status_code=400, media_type="application/json"
        )

    return app
