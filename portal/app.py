"""Mounts the portal pages, their static files and the page-aware error handlers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from portal import account, insights, messages, pages
from portal.errors import install_page_errors
from portal.render import HERE
from portal.timing import ServerTiming


def install_portal(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(insights.router)
    app.include_router(messages.router)
    app.include_router(account.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install_page_errors(app)
    app.add_middleware(ServerTiming)
