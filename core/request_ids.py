"""A request id for every HTTP request (the API's and the ERP simulator's): taken from
`X-Request-Id` (a proxy's, or the caller's) or made, answered in the same header, and on
every log line written while the request is served (`core.logs`), with the request's scope
so a line can name the customer of the route."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import logs

HEADER = "x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current() -> str:
    """The id of the request being served, "-" outside one."""
    return logs.request_id.get() or "-"


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        request_id = given if _VALID.match(given) else uuid.uuid4().hex[:16]
        id_token = logs.request_id.set(request_id)
        scope_token = logs.request_scope.set(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(id_token)
            logs.request_scope.reset(scope_token)
