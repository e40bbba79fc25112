"""The worksheet's query parameters, shared by the JSON route, the exports and the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BeforeValidator, Field

from services.worksheet import LineFilter, SortKey, WorksheetQuery


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
