from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api.schemas.common import Page
from planning.schemas import Container, Line, Totals

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
