"""A customer's recommendations: the current version and every past version.

Lines come a page at a time (a 4,000-product customer can have thousands, each with an
explanation); containers always come whole.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.deps import MAX_ID, CustomerScopeDep
from api.deps import SessionDep
from api.recommendation_json import NOT_IN_DETAIL, detail_json, splice
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, PageRequestDep
from api.schemas.recommendations import RecommendationDetail, Recommendations
from core.errors import NotFound
from store import recommendations as recommendations_repo
from store.pagination import PageRequest

router = APIRouter(prefix="/api/customers", tags=["recommendations"])

RECENT_VERSIONS = 50
UrgentOnly = Annotated[bool, Query(description="Only urgent lines")]
# The routes answer with JSON spliced from stored text (api.recommendation_json); the model
# path below is what the portal renders, and the reference a test compares the JSON with.
_RECOMMENDATIONS: TypeAdapter[Recommendations] = TypeAdapter(Recommendations)


def _summary(row: dict[str, Any]) -> dict[str, Any]:
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
            "versions": [_summary(r) for r in versions.items],
            "versions_total": versions.total,
        }
    )


def _json(content: bytes) -> Response:
    return Response(content, media_type="application/json")


@router.get(
    "/{customer_id}/recommendations",
    response_model=Recommendations,
    summary="The current recommendation (containers, a page of lines with explanations) "
    "and past versions",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def recommendations(
    scope: CustomerScopeDep, session: SessionDep, page: PageRequestDep, urgent: UrgentOnly = False
) -> Response:
    header = await recommendations_repo.header_row(session, scope.customer_id)
    versions = await recommendations_repo.version_rows(
        session, scope.customer_id, PageRequest(1, RECENT_VERSIONS)
    )
    current = b"null" if header is None else await detail_json(session, header, page, urgent)
    return _json(
        splice(
            {"versions": [_summary(r) for r in versions.items], "versions_total": versions.total},
            {"current": current},
        )
    )


@router.get(
    "/{customer_id}/recommendations/{version}",
    response_model=RecommendationDetail,
    summary="One version of the customer's recommendations, with a page of its lines",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def recommendation_version(
    scope: CustomerScopeDep,
    session: SessionDep,
    version: Annotated[int, Path(ge=1, le=MAX_ID, description="Version number", examples=[3])],
    page: PageRequestDep,
    urgent: UrgentOnly = False,
) -> Response:
    header = await recommendations_repo.header_row(session, scope.customer_id, version)
    if header is None:
        raise NotFound(f"recommendation version {version} not found", field="version")
    return _json(await detail_json(session, header, page, urgent))
