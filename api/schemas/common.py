"""Shapes shared by every router: the error body, pagination, documented error responses."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.views.page import Page
from store.pagination import PageRequest

__all__ = ["Page"]

T = TypeVar("T")


class ErrorBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"error": "not_found", "detail": "customer 7 not found", "field": None}]
        }
    )

    error: str = Field(description="Machine-readable code, e.g. not_found, invalid_input")
    detail: str = Field(description="Human-readable message")
    field: str | None = Field(description="Dotted path of the offending input, when there is one")


def error_doc(description: str, code: str, detail: str) -> dict[str, Any]:
    return {
        "model": ErrorBody,
        "description": description,
        "content": {
            "application/json": {"example": {"error": code, "detail": detail, "field": None}}
        },
    }


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_doc(
        "Not authenticated, or the token is invalid or expired", "unauthorized", "not authenticated"
    ),
    403: error_doc(
        "Authenticated but not allowed (role, or CSRF token missing)",
        "forbidden",
        "operations staff only",
    ),
}
TENANT_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    404: error_doc(
        "No such object for this caller (also another tenant's)",
        "not_found",
        "customer 7 not found",
    ),
}
STORED_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: error_doc(
        "Conflicts with what is stored; `field` names the input",
        "conflict",
        "+4915112345678 is already the number of another user",
    )
}
VALIDATION_ERROR: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorBody,
        "description": "Invalid input; `field` names it",
        "content": {
            "application/json": {
                "example": {
                    "error": "invalid_input",
                    "detail": "page_size: Input should be less than or equal to 200",
                    "field": "page_size",
                }
            }
        },
    }
}

MAX_PAGE = 100_000


async def page_request(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200, description="Rows per page")] = 50,
) -> PageRequest:
    return PageRequest(page=page, page_size=page_size)


PageRequestDep = Annotated[PageRequest, Depends(page_request)]


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    """A date is written YYYY-MM-DD: pydantic would also read `0` or `1700000000` as a Unix
    time, which no caller of this API means."""
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and not ISO_DATE.fullmatch(value.strip())
    ):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def _json_integer(value: object) -> object:
    """A JSON integer: 3 or 3.0, as JSON Schema has it; pydantic would also read `false` as 0
    and "3" as 3, which the schema refuses."""
    if isinstance(value, bool | str):
        raise ValueError("Input should be a valid integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]
