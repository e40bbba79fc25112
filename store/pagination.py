"""One pagination helper, so every list route counts and slices the same way."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import execute_core

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


async def paginate(session: AsyncSession, stmt: Select[Any], request: PageRequest) -> Page[Any]:
    """Count `stmt`'s rows and fetch one page of its first column (an ORM entity)."""
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = await session.scalars(stmt.limit(request.page_size).offset(request.offset))
    return Page(list(rows), total or 0, request.page, request.page_size)


async def paginate_rows(
    session: AsyncSession,
    stmt: Select[Any],
    request: PageRequest,
    params: Mapping[str, Any] | None = None,
) -> Page[dict[str, Any]]:
    """Like `paginate`, for a select of columns: one page of plain dicts keyed by label.

    `stmt` is built once (at import, or by a cached builder) with its values as bound
    parameters, given here in `params`: its page and count statements are then derived once
    too, and SQLAlchemy keys its compiled-SQL cache on the same objects, instead of building
    and hashing a statement tree per request (a fifth of a route's CPU, bench/api.py).

    One round trip: the total rides along as an uncorrelated scalar subquery (evaluated
    once), so the count does not cost a second query unless the page is empty."""
    counted, page_stmt = _paged(stmt)
    values = {**(params or {}), _LIMIT: request.page_size, _OFFSET: request.offset}
    result = await execute_core(session, page_stmt, values)
    keys = list(result.keys())[:-1]  # the last column is the total
    rows = result.all()
    if not rows:
        total = (
            0
            if request.page == 1
            else int((await execute_core(session, counted, params)).scalar() or 0)
        )
        return Page([], total, request.page, request.page_size)
    total = int(rows[0][-1])
    items = [dict(zip(keys, row, strict=False)) for row in rows]
    return Page(items, total, request.page, request.page_size)


@functools.lru_cache(maxsize=1024)
def _paged(stmt: Select[Any]) -> tuple[Select[Any], Select[Any]]:
    """`stmt`'s count, and one page of it with the count as its last column (statements hash
    by identity: one entry per statement built once)."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    page = (
        stmt.add_columns(counted.scalar_subquery().label(_TOTAL))
        .limit(bindparam(_LIMIT, type_=Integer))
        .offset(bindparam(_OFFSET, type_=Integer))
    )
    return counted, page


_TOTAL = "_page_total"
_LIMIT = "_page_limit"
_OFFSET = "_page_offset"


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, lower-cased, with `\\`, `%` and `_` escaped.

    Use with `escape="\\\\"`; compare against a lower-cased column so search is
    case-insensitive and behaves the same on SQLite and PostgreSQL.
    """
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
