"""The FastAPI app factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.customer_api import install_customer_api
from api.errors import install_error_handlers
from api.resources import open_resources
from api.routes import health
from core.settings import Settings, get_settings
from portal.app import install_portal


def create_app(settings: Settings | None = None, *, owns_process: bool = False) -> FastAPI:
    """`owns_process`: the app is all the process runs (`restock api`), so what exists once it
    has started lives as long as the process and is frozen out of the garbage collector,
    which then walks only request garbage (full collections cost ~90 ms pauses on the large
    recommendation page). Not for apps inside tests, whose objects would be frozen too."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            app.state.resources = resources
            if owns_process:
                gc.collect()
                gc.freeze()
            yield

    app = FastAPI(
        title="Restock API",
        version="0.1.0",
        description="Container reorder automation: stock health, recommendations, approvals.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    install_customer_api(app)
    install_portal(app)
    return app
