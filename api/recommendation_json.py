"""The recommendations routes' JSON, assembled from stored JSON text.

A 4,000-product customer's current version has about 1,700 container lines and every line
carries an explanation: parsing that JSON from the database, validating it into models and
serialising it again cost most of the request. The stored text was written from the same
models (`services.recommend`), so it is spliced into the response verbatim; only the small
scalar parts are serialised here. The result has the `RecommendationDetail` shape (key order
aside), which a test checks against the model path.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from services.views.recommendations import NOT_IN_DETAIL
from store import recommendations as recommendations_repo
from store.pagination import PageRequest


def splice(fields: dict[str, Any], raw: dict[str, bytes | str | None]) -> bytes:
    """`fields` as a JSON object with the `raw` members appended as given (JSON text)."""
    if not raw:
        return to_json(fields)
    parts = []
    for key, text in raw.items():
        value = b"null" if text is None else text.encode() if isinstance(text, str) else text
        parts.append(b'"' + key.encode() + b'":' + value)
    return members_after(fields, b",".join(parts))


def members_after(fields: dict[str, Any], members: bytes) -> bytes:
    """`fields` as a JSON object followed by `members` (`"key":value,…` JSON text)."""
    head = to_json(fields)
    separator = b"," if len(head) > 2 else b""
    return head[:-1] + separator + members + b"}"


def _row(row: dict[str, Any], raw_fields: frozenset[str]) -> bytes:
    fields = {k: v for k, v in row.items() if k not in raw_fields}
    return splice(fields, {k: row[k] for k in raw_fields})


def _array(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


RenderedKey = tuple[int, int, int, str, int, int, bool]


class RenderedVersions:
    """The containers-and-lines JSON of stored versions, by version and page of lines.

    A stored version's containers and lines are never written again (only its header's
    status changes, and the header is rendered per request), so each page is read and
    assembled once per process. Bounded by bytes; the least recently used goes first. The
    key carries the version's customer, number and plan date besides its id, so a store
    that reuses an id (SQLite after a delete, a restored backup) cannot serve another's."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[RenderedKey, bytes] = OrderedDict()

    @staticmethod
    def key(header: dict[str, Any], page: PageRequest, urgent_only: bool) -> RenderedKey:
        return (
            header["id"],
            header["customer_id"],
            header["version"],
            str(header["as_of"]),
            page.page,
            page.page_size,
            urgent_only,
        )

    def get(self, key: RenderedKey) -> bytes | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: RenderedKey, rendered: bytes) -> None:
        if len(rendered) > self.max_bytes or key in self._items:
            return
        self._items[key] = rendered
        self.bytes += len(rendered)
        while self.bytes > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self.bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


async def detail_json(
    session: AsyncSession,
    header: dict[str, Any],
    page: PageRequest,
    urgent_only: bool,
    rendered: RenderedVersions | None = None,
) -> bytes:
    """One version as `RecommendationDetail` JSON: header, every container, a page of lines."""
    fields = {k: v for k, v in header.items() if k not in NOT_IN_DETAIL}
    key = RenderedVersions.key(header, page, urgent_only)
    body = rendered.get(key) if rendered is not None else None
    if body is None:
        body = await _body_json(session, header["id"], page, urgent_only)
        if rendered is not None:
            rendered.put(key, body)
    return members_after(fields, body)


async def _body_json(
    session: AsyncSession, recommendation_id: int, page: PageRequest, urgent_only: bool
) -> bytes:
    """`"containers":[…],"lines":{…}`: the members of a version that never change."""
    containers = await recommendations_repo.container_rows_raw(session, recommendation_id)
    lines = await recommendations_repo.line_rows_raw(
        session, recommendation_id, page, urgent_only=urgent_only
    )
    lines_json = splice(
        {"total": lines.total, "page": lines.page, "page_size": lines.page_size},
        {"items": _array([_row(r, recommendations_repo.RAW_LINE_FIELDS) for r in lines.items])},
    )
    containers_json = _array(
        [_row(c, recommendations_repo.RAW_CONTAINER_FIELDS) for c in containers]
    )
    return b'"containers":' + containers_json + b',"lines":' + lines_json
