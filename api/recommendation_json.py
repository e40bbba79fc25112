"""The recommendations routes' JSON, assembled from stored JSON text.

A 4,000-product customer's current version has about 1,700 container lines and every line
carries an explanation: parsing that JSON from the database, validating it into models and
serialising it again cost most of the request. The stored text was written from the same
models (`services.recommend`), so it is spliced into the response verbatim; only the small
scalar parts are serialised here. The result has the `RecommendationDetail` shape (key order
aside), which a test checks against the model path.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from services.views.recommendations import NOT_IN_DETAIL
from store import recommendations as recommendations_repo
from store.pagination import PageRequest


def splice(fields: dict[str, Any], raw: dict[str, bytes | str | None]) -> bytes:
    """`fields` as a JSON object with the `raw` members appended as given (JSON text)."""
    head = to_json(fields)
    parts = []
    for key, text in raw.items():
        value = b"null" if text is None else text.encode() if isinstance(text, str) else text
        parts.append(b'"' + key.encode() + b'":' + value)
    if not parts:
        return head
    separator = b"," if len(head) > 2 else b""
    return head[:-1] + separator + b",".join(parts) + b"}"


def _row(row: dict[str, Any], raw_fields: frozenset[str]) -> bytes:
    fields = {k: v for k, v in row.items() if k not in raw_fields}
    return splice(fields, {k: row[k] for k in raw_fields})


def _array(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


async def detail_json(
    session: AsyncSession, header: dict[str, Any], page: PageRequest, urgent_only: bool
) -> bytes:
    """One version as `RecommendationDetail` JSON: header, every container, a page of lines."""
    containers = await recommendations_repo.container_rows_raw(session, header["id"])
    lines = await recommendations_repo.line_rows_raw(
        session, header["id"], page, urgent_only=urgent_only
    )
    lines_json = splice(
        {"total": lines.total, "page": lines.page, "page_size": lines.page_size},
        {"items": _array([_row(r, recommendations_repo.RAW_LINE_FIELDS) for r in lines.items])},
    )
    containers_json = _array(
        [_row(c, recommendations_repo.RAW_CONTAINER_FIELDS) for c in containers]
    )
    fields = {k: v for k, v in header.items() if k not in NOT_IN_DETAIL}
    return splice(fields, {"containers": containers_json, "lines": lines_json})
