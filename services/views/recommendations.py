from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.config import JsonDict
from sqlalchemy.ext.asyncio import AsyncSession

from planning.schemas import Container, Line, Totals
from services.views.page import Page
from store import recommendations as recommendations_repo
from store.pagination import PageRequest

_BRIEF_EXAMPLE: JsonDict = {
    "version": 4,
    "status": "current",
    "as_of": "2026-11-16",
    "created_at": "2026-11-16T06:00:07Z",
    "decided_at": None,
    "decided_by": None,
    "summary": "2 containers (1 urgent), 171,000 cartons of 57 products",
    "urgent": True,
    "containers": 2,
    "urgent_containers": 1,
    "cartons": 171000,
}


class RecommendationSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_BRIEF_EXAMPLE]})

    version: int
    status: str = Field(description="current, superseded, approved, rejected or expired")
    as_of: date
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    summary: str
    urgent: bool
    containers: int
    urgent_containers: int
    cartons: int


class RecommendationDetail(BaseModel):
    """One version: header, every container, and one page of lines with explanations."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 1,
                    "version": 4,
                    "status": "current",
                    "as_of": "2026-11-16",
                    "created_at": "2026-11-16T06:00:07Z",
                    "decided_at": None,
                    "decided_by": None,
                    "summary": "1 container: 20,000 cartons of 20 products",
                    "urgent": True,
                    "warnings": [],
                    "totals": None,
                    "containers": [],
                    "lines": {"items": [], "total": 20, "page": 1, "page_size": 50},
                }
            ]
        }
    )

    customer_id: int
    version: int
    status: str
    as_of: date
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    summary: str
    urgent: bool
    warnings: list[str]
    totals: Totals | None
    containers: list[Container]
    lines: Page[Line] = Field(description="Lines, urgent first; `page`/`page_size` page them")


class Recommendations(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current": None, "versions": [_BRIEF_EXAMPLE], "versions_total": 1}]
        }
    )

    current: RecommendationDetail | None = Field(
        description="The version awaiting a decision, with containers and a page of lines"
    )
    versions: list[RecommendationSummary] = Field(description="The latest versions, newest first")
    versions_total: int


RECENT_VERSIONS = 50
# Header fields of a stored version that its detail does not show.
NOT_IN_DETAIL = frozenset({"id", "container_count", "urgent_container_count", "cartons"})
# The API answers with JSON spliced from stored text (api.recommendation_json); this model
# path is what the portal renders, and the reference a test compares that JSON with.
_RECOMMENDATIONS: TypeAdapter[Recommendations] = TypeAdapter(Recommendations)


def summary_row(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["containers"] = row.pop("container_count")
    row["urgent_containers"] = row.pop("urgent_container_count")
    return row


async def _detail(
    session: AsyncSession, header: dict[str, Any], page: PageRequest, urgent_only: bool
) -> dict[str, Any]:
    """One version as `RecommendationDetail` input: header, every container, a page of lines."""
    lines = await recommendations_repo.line_rows(
        session, header["id"], page, urgent_only=urgent_only
    )
    containers = await recommendations_repo.container_rows(session, header["id"])
    detail = {k: v for k, v in header.items() if k not in NOT_IN_DETAIL}
    detail["containers"] = containers
    detail["lines"] = {
        "items": lines.items,
        "total": lines.total,
        "page": lines.page,
        "page_size": lines.page_size,
    }
    return detail


async def current_and_versions(
    session: AsyncSession, customer_id: int, page: PageRequest, urgent: bool
) -> Recommendations:
    """The model of what the list route returns (the portal renders it)."""
    header = await recommendations_repo.header_row(session, customer_id)
    versions = await recommendations_repo.version_rows(
        session, customer_id, PageRequest(1, RECENT_VERSIONS)
    )
    return _RECOMMENDATIONS.validate_python(
        {
            "current": None if header is None else await _detail(session, header, page, urgent),
            "versions": [summary_row(r) for r in versions.items],
            "versions_total": versions.total,
        }
    )
