"""One HTTP mapping for every error: `{"error": code, "detail": message, "field": path}`."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import request_ids
from core.errors import DependencyUnavailable, InvalidLines, RestockError


def error_body(code: str, detail: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, "field": field, **extra}


def field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts)


log = logging.getLogger("restock.api")


def _log_answer(request: Request, status: int, code: str, detail: str) -> None:
    """Why a request was refused or failed, with its request id (the access log has only
    the status)."""
    level = logging.WARNING if status >= 500 else logging.INFO
    log.log(
        level,
        "%s %s -> %s %s: %s [request %s]",
        request.method,
        request.url.path,
        status,
        code,
        detail,
        request_ids.current(),
    )


async def _restock_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RestockError)
    _log_answer(request, exc.status_code, exc.code, getattr(exc, "internal_detail", exc.detail))
    extra: dict[str, Any] = (
        {"component": exc.component} if isinstance(exc, DependencyUnavailable) else {}
    )
    if isinstance(exc, InvalidLines):
        extra["problems"] = exc.problems
    return JSONResponse(
        error_body(exc.code, exc.detail, exc.field, **extra), status_code=exc.status_code
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = field_path(first.get("loc", ()))
    problems = [
        {"field": field_path(e.get("loc", ())), "problem": e.get("msg", "")} for e in errors
    ]
    detail = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg"))
    _log_answer(_request, 422, "invalid_input", detail)
    return JSONResponse(
        error_body("invalid_input", detail, field or None, problems=problems), status_code=422
    )


def _allowed_methods(request: Request) -> str | None:
    """Every documented method at this path (Starlette's 405 names only the first route's,
    and GET and POST of one path are often two routes); None for an undocumented path."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), request.url.path):
            methods |= {m.upper() for m in operations if m in HTTP_METHODS}
    return ", ".join(sorted(methods)) if methods else None


HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {
        400: "unreadable_body",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
    }
    headers = dict(exc.headers or {})
    allowed = _allowed_methods(request) if exc.status_code == 405 else None
    if allowed:
        headers["Allow"] = allowed
    return JSONResponse(
        error_body(code.get(exc.status_code, "http_error"), str(exc.detail)),
        status_code=exc.status_code,
        headers=headers,
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A lost database connection is a dependency being down (503: retry), not a bug; any
    other database error stays a 500."""
    assert isinstance(exc, DBAPIError)
    if not exc.connection_invalidated:
        raise exc
    _log_answer(request, 503, "dependency_unavailable", "database connection lost")
    return JSONResponse(
        error_body("dependency_unavailable", "database connection lost; retry"), status_code=503
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_middleware(request_ids.RequestIds)
    app.add_exception_handler(RestockError, _restock_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
