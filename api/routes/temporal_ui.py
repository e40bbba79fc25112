"""The Temporal UI behind the ops login: `/ops/temporal/...` is forwarded to the UI server
(`RESTOCK_TEMPORAL_UI_UPSTREAM`) for ops only, so the UI itself is never published.

Through the proxy the UI is read-only: its writes (terminate, signal) would be
cookie-authenticated unsafe requests without our CSRF token, and are refused; ops act
through Restock's own routes, which audit who did what.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response

from api.auth.deps import OpsDep
from api.deps import SettingsDep
from core.errors import DependencyUnavailable, NotFound

PREFIX = "/ops/temporal"
router = APIRouter(include_in_schema=False)

# Hop-by-hop headers and our own credentials never cross the proxy.
DROPPED_REQUEST = {"host", "cookie", "authorization", "content-length", "connection"}
DROPPED_RESPONSE = {"content-length", "content-encoding", "transfer-encoding", "connection"}


@router.api_route(f"{PREFIX}/{{path:path}}", methods=["GET", "HEAD", "POST"])
async def temporal_ui(path: str, request: Request, _ops: OpsDep, settings: SettingsDep) -> Response:
    upstream = settings.temporal_ui_upstream
    if not upstream:
        raise NotFound("the Temporal UI is not served here (RESTOCK_TEMPORAL_UI_UPSTREAM)")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED_REQUEST}
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.request(
                request.method,
                f"{upstream.rstrip('/')}/{path}",
                params=request.query_params,
                headers=headers,
                content=await request.body(),
            )
    except httpx.HTTPError as err:
        raise DependencyUnavailable("temporal-ui", f"{type(err).__name__}: {err}") from err
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED_RESPONSE}
    return Response(answer.content, status_code=answer.status_code, headers=kept)
