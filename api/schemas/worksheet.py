"""The worksheet's query parameters, shared by the JSON route, the exports and the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from services.worksheet import LineFilter, SortKey, WorksheetQuery


def worksheet_query(
    sort: Annotated[SortKey, Query(description="Column to sort by")] = SortKey.POSITION,
    desc: Annotated[bool, Query(description="Descending")] = False,
    q: Annotated[str, Query(max_length=100, description="Code or name contains")] = "",
    show: Annotated[LineFilter, Query(description="Which lines")] = LineFilter.ALL,
    container: Annotated[int | None, Query(ge=1, le=10_000, description="One container")] = None,
) -> WorksheetQuery:
    return WorksheetQuery(sort=sort, descending=desc, search=q, show=show, container=container)


WorksheetQueryDep = Annotated[WorksheetQuery, Depends(worksheet_query)]
