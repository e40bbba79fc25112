"""Errors on portal pages are pages: a 404 page, a redirect to login, a readable message.

API paths keep the JSON error body; the portal wraps the API's handlers and only answers
differently for page requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth.deps import SESSION_COOKIE
from api.errors import field_path
from core.errors import NotFound, RestockError, Unauthorized
from portal.render import render

Handler = Callable[[Request, Exception], Awaitable[Response]]
JSON_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/redoc")


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(JSON_PREFIXES)


def _page_error(exc: Exception) -> tuple[int, str, str | None]:
    if isinstance(exc, RestockError):
        return exc.status_code, exc.detail, exc.field
    if isinstance(exc, StarletteHTTPException):
        detail = "page not found" if exc.status_code == 404 else str(exc.detail)
        return exc.status_code, detail, None
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = field_path(first.get("loc", ())) or None
        return 422, f"{field}: {first.get('msg')}" if field else str(first.get("msg")), field
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return 503, "the database is unavailable; try again in a moment", None
    return 500, "something went wrong", None


def _wrap(api_handler: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if not is_page(request):
            return await api_handler(request, exc)
        if isinstance(exc, Unauthorized):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            # A session cookie that no longer works is a session that ended: say so.
            ended = "&expired=1" if request.cookies.get(SESSION_COOKIE) else ""
            return RedirectResponse(f"/login?next={quote(target, safe='')}{ended}", status_code=303)
        status, detail, field = _page_error(exc)
        template = "not_found.html" if isinstance(exc, NotFound) or status == 404 else "error.html"
        return render(
            request,
            template,
            {"status": status, "detail": detail, "field": field},
            status_code=status,
        )

    return handle


def install_page_errors(app: FastAPI) -> None:
    """Call after the API's handlers are installed: it wraps each of them."""
    for exc_class in (RestockError, RequestValidationError, StarletteHTTPException, DBAPIError):
        api_handler = app.exception_handlers[exc_class]
        app.add_exception_handler(exc_class, _wrap(api_handler))  # type: ignore[arg-type]
