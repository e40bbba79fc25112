"""A query parameter given twice where the route takes one value is refused (422, naming
it) rather than answered for whichever value the framework kept: `?action=a&action=b` on
the audit log. Parameters that take a list (`?status=a&status=b` on the products) repeat
as they please."""

from __future__ import annotations

from fastapi import Request, params
from fastapi.dependencies.utils import field_annotation_is_sequence, get_flat_params
from fastapi.routing import APIRoute

from core.errors import InvalidInput

CACHED = "restock_single_valued_query"


def _single_valued(route: APIRoute) -> frozenset[str]:
    """The route's query parameters that take one value (worked out once, kept on the
    route: routes are not hashable, and an id could be reused by another app's)."""
    names: frozenset[str] | None = getattr(route, CACHED, None)
    if names is None:
        names = frozenset(
            f.alias
            for f in get_flat_params(route.dependant)
            if isinstance(f.field_info, params.Query)
            and not field_annotation_is_sequence(f.field_info.annotation)
        )
        setattr(route, CACHED, names)
    return names


async def single_query_values(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    names = _single_valued(route)
    for name in names & request.query_params.keys():
        given = len(request.query_params.getlist(name))
        if given > 1:
            raise InvalidInput(f"query parameter {name} is given {given} times; give it once",
                               field=name)  # fmt: skip
