"""One pagination helper, so every list route counts and slices the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
    session: AsyncSession, stmt: Select[Any], request: PageRequest
) -> Page[dict[str, Any]]:
    """Like `paginate`, for a select of columns: one page of plain dicts keyed by label.

    One round trip: the total rides along as an uncorrelated scalar subquery (evaluated
    once), so the count does not cost a second query unless the page is empty."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    page_stmt = stmt.add_columns(counted.scalar_subquery().label(_TOTAL))
    rows = (
        await session.execute(page_stmt.limit(request.page_size).offset(request.offset))
    ).mappings()
    items = [dict(row) for row in rows]
    if not items:
        total = 0 if request.page == 1 else int(await session.scalar(counted) or 0)
        return Page(items, total, request.page, request.page_size)
    total = int(items[0][_TOTAL])
    for item in items:
        del item[_TOTAL]
    return Page(items, total, request.page, request.page_size)


_TOTAL = "_page_total"


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, lower-cased, with `\\`, `%` and `_` escaped.

    Use with `escape="\\\\"`; compare against a lower-cased column so search is
    case-insensitive and behaves the same on SQLite and PostgreSQL.
    """
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
