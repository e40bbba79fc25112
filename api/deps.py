"""Dependency aliases: routes declare what they need, the lifespan provides it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BeforeValidator, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.resources import Resources
from core.settings import Settings
from services.worksheet import LineFilter, SortKey, WorksheetQuery


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def`
# dependency in the thread pool, a thread hop per dependency per request.
async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that only read: no CSRF token (api.auth.deps) and no transaction (below)."""


async def get_session(request: Request, resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back if it raises.
    A read (a safe method) runs its statements without one on PostgreSQL
    (`store.db.create_autocommit_session_factory`)."""
    factory = resources.read_sessions if request.method in SAFE_METHODS else resources.sessions
    async with factory() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


# The worksheet's query parameters: the JSON route, the exports and the portal page.
def _blank_is_none(value: object) -> object:
    """A form's "All" option sends `container=`: no filter, not an error."""
    return None if value == "" else value


def worksheet_query(
    sort: Annotated[SortKey, Query(description="Column to sort by")] = SortKey.POSITION,
    desc: Annotated[bool, Query(description="Descending")] = False,
    q: Annotated[str, Query(max_length=100, description="Code or name contains")] = "",
    show: Annotated[LineFilter, Query(description="Which lines")] = LineFilter.ALL,
    container: Annotated[
        Annotated[int, Field(ge=1, le=10_000)] | None,
        BeforeValidator(_blank_is_none),
        Query(description="One container (empty: all)"),
    ] = None,
) -> WorksheetQuery:
    return WorksheetQuery(sort=sort, descending=desc, search=q, show=show, container=container)


WorksheetQueryDep = Annotated[WorksheetQuery, Depends(worksheet_query)]
