"""Small SQL helpers that make SQLite and PostgreSQL order and compare alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

Column = ColumnElement[Any] | QueryableAttribute[Any]


def byte_order(column: Column, session: AsyncSession) -> ColumnElement[Any]:
    """Order text by code point on both backends (PostgreSQL's locale collations would not)."""
    bind = session.get_bind()
    return column.collate("C" if bind.dialect.name == "postgresql" else "BINARY")
