"""Mounts the customer API (auth, tenant routes, ops routes) on the app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.errors import error_body
from api.routes import (
    auth,
    customers,
    cycle_actions,
    cycles,
    erp_events,
    ops,
    orders,
    products,
    recommendations,
    shipments,
    temporal_ui,
    users,
    worksheet,
)
from services.accounts import LoginThrottled

ROUTERS = (
    auth.router,
    customers.router,
    products.router,
    worksheet.router,  # before recommendations: /{version}/worksheet.csv is not a version
    recommendations.router,
    orders.router,
    shipments.router,
    cycle_actions.router,  # before cycles: /cycles/current is not a cycle id
    cycles.router,
    ops.router,
    users.router,
    erp_events.router,
    temporal_ui.router,
)


async def _login_throttled(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LoginThrottled)
    return JSONResponse(
        error_body(exc.code, exc.detail, exc.field),
        status_code=exc.status_code,
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


def install_customer_api(app: FastAPI) -> None:
    app.add_exception_handler(LoginThrottled, _login_throttled)
    for router in ROUTERS:
        app.include_router(router)
