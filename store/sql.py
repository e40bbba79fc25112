"""Small SQL helpers that make SQLite and PostgreSQL order and compare alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

Column = ColumnElement[Any] | QueryableAttribute[Any]


def byte_order(column: Column, session: AsyncSession) -> ColumnElement[Any]:
    """Order text by code point on both backends (PostgreSQL's locale collations would not)."""
    return collated_byte_order(column, session.get_bind().dialect.name)


def collated_byte_order(column: Column, dialect: str) -> ColumnElement[Any]:
    """`byte_order` for a statement built ahead of a session, for `dialect`."""
    return column.collate("C" if dialect == "postgresql" else "BINARY")
