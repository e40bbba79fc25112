"""Versioned recommendations. Version numbers count up per customer; at most one is current."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, Select, Text, bindparam, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.db import execute_core
from store.models import (
    RecommendationContainer,
    RecommendationLine,
    RecommendationRecord,
    RecommendationStatus,
)
from store.pagination import Page, PageRequest, paginate, paginate_rows

_WITH_CHILDREN = (
    selectinload(RecommendationRecord.containers),
    selectinload(RecommendationRecord.lines),
)


async def next_version(session: AsyncSession, customer_id: int) -> int:
    latest = await session.scalar(
        select(func.max(RecommendationRecord.version)).where(
            RecommendationRecord.customer_id == customer_id
        )
    )
    return (latest or 0) + 1


async def latest(session: AsyncSession, customer_id: int) -> RecommendationRecord | None:
    """The newest version, whatever its status (children not loaded)."""
    return await session.scalar(
        select(RecommendationRecord)
        .where(RecommendationRecord.customer_id == customer_id)
        .order_by(RecommendationRecord.version.desc())
        .limit(1)
    )


async def current_brief(session: AsyncSession, customer_id: int) -> RecommendationRecord | None:
    """The current version without its containers and lines (for summaries)."""
    return await session.scalar(
        select(RecommendationRecord).where(
            RecommendationRecord.customer_id == customer_id,
            RecommendationRecord.status == RecommendationStatus.CURRENT.value,
        )
    )


async def current(session: AsyncSession, customer_id: int) -> RecommendationRecord | None:
    """The version awaiting a decision, with containers and lines."""
    return await session.scalar(
        select(RecommendationRecord)
        .where(
            RecommendationRecord.customer_id == customer_id,
            RecommendationRecord.status == RecommendationStatus.CURRENT.value,
        )
        .options(*_WITH_CHILDREN)
    )


async def get_version(
    session: AsyncSession, customer_id: int, version: int
) -> RecommendationRecord | None:
    """One version of `customer_id`'s recommendations, with containers and lines."""
    return await session.scalar(
        select(RecommendationRecord)
        .where(
            RecommendationRecord.customer_id == customer_id,
            RecommendationRecord.version == version,
        )
        .options(*_WITH_CHILDREN)
    )


async def get_header(
    session: AsyncSession, customer_id: int, version: int | None = None
) -> RecommendationRecord | None:
    """A version (the current one when `version` is None) with its containers but not its
    lines, which can number thousands: page through them with `lines_page`."""
    stmt = (
        select(RecommendationRecord)
        .where(RecommendationRecord.customer_id == customer_id)
        .options(selectinload(RecommendationRecord.containers))
    )
    if version is None:
        stmt = stmt.where(RecommendationRecord.status == RecommendationStatus.CURRENT.value)
    else:
        stmt = stmt.where(RecommendationRecord.version == version)
    return await session.scalar(stmt)


async def lines_page(
    session: AsyncSession, recommendation_id: int, page: PageRequest, *, urgent_only: bool = False
) -> Page[RecommendationLine]:
    """Lines in the engine's order (urgent first), one page at a time."""
    stmt = select(RecommendationLine).where(
        RecommendationLine.recommendation_id == recommendation_id
    )
    if urgent_only:
        stmt = stmt.where(RecommendationLine.urgent.is_(True))
    return await paginate(session, stmt.order_by(RecommendationLine.position), page)


# Plain-row reads for the API: no ORM objects, just what the routes serialise.
HEADER_FIELDS = (
    "id",
    "customer_id",
    "version",
    "status",
    "as_of",
    "summary",
    "urgent",
    "container_count",
    "urgent_container_count",
    "cartons",
    "totals",
    "warnings",
    "created_at",
    "decided_at",
    "decided_by",
)
SUMMARY_FIELDS = tuple(
    f for f in HEADER_FIELDS if f not in {"id", "customer_id", "totals", "warnings"}
)
CONTAINER_FIELDS = (
    "index",
    "lines",
    "cartons",
    "fill_pct",
    "cartons_fill_pct",
    "weight_kg",
    "weight_fill_pct",
    "volume_m3",
    "volume_fill_pct",
    "urgent",
    "value",
    "unpriced_lines",
)
LINE_FIELDS = (
    "product_code",
    "name",
    "quantity",
    "packs",
    "pack_size",
    "moq",
    "urgent",
    "urgency_reason",
    "containers",
    "carton_weight_kg",
    "carton_volume_m3",
    "edited",
    "explanation",
    "value",
)
_records = RecommendationRecord.__table__.c
_containers = RecommendationContainer.__table__.c
_lines = RecommendationLine.__table__.c


def _header(version: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*(_records[f] for f in HEADER_FIELDS))
        .where(_records.customer_id == bindparam("customer_id", type_=Integer), version)
        .limit(1)
    )


# Built once (see store.pagination.paginate_rows): the API reads these on every request.
_CURRENT_HEADER = _header(_records.status == RecommendationStatus.CURRENT.value)
_VERSION_HEADER = _header(_records.version == bindparam("version", type_=Integer))


async def header_row(
    session: AsyncSession, customer_id: int, version: int | None = None
) -> dict[str, Any] | None:
    """A version's header (the current one when `version` is None) as a dict of
    `HEADER_FIELDS`, without containers or lines."""
    if version is None:
        result = await execute_core(session, _CURRENT_HEADER, {"customer_id": customer_id})
    else:
        result = await execute_core(
            session, _VERSION_HEADER, {"customer_id": customer_id, "version": version}
        )
    row = result.mappings().first()
    return None if row is None else dict(row)


async def codes_ordered(
    session: AsyncSession, recommendation_id: int, codes: Sequence[str]
) -> set[str]:
    """Which of `codes` are lines of the version."""
    stmt = select(_lines.product_code).where(
        _lines.recommendation_id == recommendation_id, _lines.product_code.in_(list(codes))
    )
    return set(await session.scalars(stmt))


async def container_rows(session: AsyncSession, recommendation_id: int) -> list[dict[str, Any]]:
    """Every container of a version, in index order, as dicts of `CONTAINER_FIELDS`."""
    stmt = (
        select(*(_containers[f] for f in CONTAINER_FIELDS))
        .where(_containers.recommendation_id == recommendation_id)
        .order_by(_containers.index)
    )
    return [dict(row) for row in (await session.execute(stmt)).mappings()]


def _lines_of_version(columns: list[Any], *, urgent_only: bool) -> Select[Any]:
    stmt = select(*columns).where(
        _lines.recommendation_id == bindparam("recommendation_id", type_=Integer)
    )
    if urgent_only:
        stmt = stmt.where(_lines.urgent.is_(True))
    return stmt.order_by(_lines.position)


_LINES = _lines_of_version([_lines[f] for f in LINE_FIELDS], urgent_only=False)
_LINES_URGENT = _lines_of_version([_lines[f] for f in LINE_FIELDS], urgent_only=True)


async def line_rows(
    session: AsyncSession, recommendation_id: int, page: PageRequest, *, urgent_only: bool = False
) -> Page[dict[str, Any]]:
    """`lines_page` as dicts of `LINE_FIELDS`."""
    stmt = _LINES_URGENT if urgent_only else _LINES
    return await paginate_rows(session, stmt, page, {"recommendation_id": recommendation_id})


async def latest_explanation(
    session: AsyncSession, customer_id: int, code: str
) -> dict[str, Any] | None:
    """The explanation of `code`'s line in the customer's latest version (None: not in it)."""
    line = await latest_line(session, customer_id, code)
    return None if line is None else line.explanation


class LatestLine(NamedTuple):
    explanation: dict[str, Any]
    value: str | None  # Decimal text, in `currency`
    currency: str | None


async def latest_line(session: AsyncSession, customer_id: int, code: str) -> LatestLine | None:
    """`code`'s line in the customer's latest version, with the version's currency; None
    when it is not in it."""
    latest = (
        select(func.max(_records.version)).where(_records.customer_id == customer_id)
    ).scalar_subquery()
    row = (
        await session.execute(
            select(_lines.explanation, _lines.value, _records.totals)
            .join(RecommendationRecord.__table__, _records.id == _lines.recommendation_id)
            .where(
                _records.customer_id == customer_id,
                _records.version == latest,
                _lines.product_code == code,
            )
        )
    ).first()
    if row is None:
        return None
    explanation, value, totals = row
    return LatestLine(explanation, value, (totals or {}).get("currency"))


async def settings_of(session: AsyncSession, recommendation_id: int) -> dict[str, Any] | None:
    """The settings a version was planned with, as stored."""
    value: dict[str, Any] | None = await session.scalar(
        select(_records.settings).where(_records.id == recommendation_id)
    )
    return value


async def all_line_rows(session: AsyncSession, recommendation_id: int) -> list[dict[str, Any]]:
    """Every line of a version as dicts of `LINE_FIELDS`, in the engine's order."""
    stmt = (
        select(*(_lines[f] for f in LINE_FIELDS))
        .where(_lines.recommendation_id == recommendation_id)
        .order_by(_lines.position)
    )
    return [dict(row) for row in (await session.execute(stmt)).mappings()]


# JSON columns the API passes through as stored text (no parse, no re-validation).
RAW_CONTAINER_FIELDS = frozenset({"lines"})
RAW_LINE_FIELDS = frozenset({"containers", "explanation"})


def _columns(table: Any, fields: tuple[str, ...], raw: frozenset[str]) -> list[Any]:
    return [cast(table[f], Text).label(f) if f in raw else table[f] for f in fields]


async def container_rows_raw(session: AsyncSession, recommendation_id: int) -> list[dict[str, Any]]:
    """`container_rows` with `lines` as the stored JSON text."""
    stmt = (
        select(*_columns(_containers, CONTAINER_FIELDS, RAW_CONTAINER_FIELDS))
        .where(_containers.recommendation_id == recommendation_id)
        .order_by(_containers.index)
    )
    return [dict(row) for row in (await session.execute(stmt)).mappings()]


async def line_rows_raw(
    session: AsyncSession, recommendation_id: int, page: PageRequest, *, urgent_only: bool = False
) -> Page[dict[str, Any]]:
    """`line_rows` with `containers` and `explanation` as the stored JSON text."""
    stmt = _RAW_LINES_URGENT if urgent_only else _RAW_LINES
    return await paginate_rows(session, stmt, page, {"recommendation_id": recommendation_id})


_RAW_LINES = _lines_of_version(_columns(_lines, LINE_FIELDS, RAW_LINE_FIELDS), urgent_only=False)
_RAW_LINES_URGENT = _lines_of_version(
    _columns(_lines, LINE_FIELDS, RAW_LINE_FIELDS), urgent_only=True
)
_VERSIONS = (
    select(*(_records[f] for f in SUMMARY_FIELDS))
    .where(_records.customer_id == bindparam("customer_id", type_=Integer))
    .order_by(_records.version.desc())
)


async def version_rows(
    session: AsyncSession, customer_id: int, page: PageRequest
) -> Page[dict[str, Any]]:
    """`list_versions` as dicts of `SUMMARY_FIELDS`."""
    return await paginate_rows(session, _VERSIONS, page, {"customer_id": customer_id})


async def list_versions(
    session: AsyncSession, customer_id: int, page: PageRequest
) -> Page[RecommendationRecord]:
    stmt = (
        select(RecommendationRecord)
        .where(RecommendationRecord.customer_id == customer_id)
        .order_by(RecommendationRecord.version.desc())
    )
    return await paginate(session, stmt, page)


async def supersede_current(session: AsyncSession, customer_id: int) -> None:
    await session.execute(
        update(RecommendationRecord)
        .where(
            RecommendationRecord.customer_id == customer_id,
            RecommendationRecord.status == RecommendationStatus.CURRENT.value,
        )
        .values(status=RecommendationStatus.SUPERSEDED.value)
    )


async def add(session: AsyncSession, record: RecommendationRecord) -> RecommendationRecord:
    session.add(record)
    await session.flush()
    return record


async def decide(
    session: AsyncSession,
    customer_id: int,
    version: int,
    status: RecommendationStatus,
    *,
    decided_by: str,
    at: datetime,
) -> RecommendationRecord | None:
    """Mark a version approved, rejected or expired; None if it is not the customer's."""
    record = await session.scalar(
        select(RecommendationRecord).where(
            RecommendationRecord.customer_id == customer_id,
            RecommendationRecord.version == version,
        )
    )
    if record is not None:
        mark_decided(record, status, decided_by=decided_by, at=at)
        await session.flush()
    return record


def mark_decided(
    record: RecommendationRecord, status: RecommendationStatus, *, decided_by: str, at: datetime
) -> None:
    """`decide` for a version already loaded in the session; written at the next flush."""
    record.status = status.value
    record.decided_by = decided_by
    record.decided_at = at


async def line_needs(
    session: AsyncSession, recommendation_ids: Collection[int], codes: Collection[str]
) -> dict[tuple[int, str], tuple[int, float]]:
    """Per (recommendation id, product code): the line's demand-driven need and its weekly
    forecast, as its explanation gave them (read from the JSON in the database)."""
    if not recommendation_ids or not codes:
        return {}
    explanation = RecommendationLine.explanation
    rows = await session.execute(
        select(
            RecommendationLine.recommendation_id,
            RecommendationLine.product_code,
            explanation["need_cartons"].as_integer(),
            explanation["forecast_weekly"].as_float(),
        ).where(
            RecommendationLine.recommendation_id.in_(list(recommendation_ids)),
            RecommendationLine.product_code.in_(list(codes)),
            RecommendationLine.explanation.is_not(None),
        )
    )
    return {
        (rec_id, code): (int(need or 0), float(weekly or 0.0))
        for rec_id, code, need, weekly in rows
    }
