"""A customer's recommendations: the current version and every past version.

Lines come a page at a time (a 4,000-product customer can have thousands, each with an
explanation); containers always come whole.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.deps import MAX_ID, CustomerScopeDep
from api.deps import SessionDep
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, PageRequestDep
from api.schemas.recommendations import RecommendationDetail, Recommendations
from core.errors import NotFound
from store import recommendations as recommendations_repo
from store.pagination import PageRequest

router = APIRouter(prefix="/api/customers", tags=["recommendations"])

RECENT_VERSIONS = 50
UrgentOnly = Annotated[bool, Query(description="Only urgent lines")]
# Rows are validated once, from plain dicts, in pydantic-core; FastAPI then passes the model
# through and serialises it straight to JSON bytes.
_RECOMMENDATIONS: TypeAdapter[Recommendations] = TypeAdapter(Recommendations)
_DETAIL: TypeAdapter[RecommendationDetail] = TypeAdapter(RecommendationDetail)


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
    detail = {k: v for k, v in header.items() if k not in _NOT_IN_DETAIL}
    detail["containers"] = containers
    detail["lines"] = {
        "items": lines.items,
        "total": lines.total,
        "page": lines.page,
        "page_size": lines.page_size,
    }
    return detail


_NOT_IN_DETAIL = frozenset({"id", "container_count", "urgent_container_count", "cartons"})


@router.get(
    "/{customer_id}/recommendations",
    response_model=Recommendations,
    summary="The current recommendation (containers, a page of lines with explanations) "
    "and past versions",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def recommendations(
    scope: CustomerScopeDep, session: SessionDep, page: PageRequestDep, urgent: UrgentOnly = False
) -> Recommendations:
    header = await recommendations_repo.header_row(session, scope.customer_id)
    versions = await recommendations_repo.version_rows(
        session, scope.customer_id, PageRequest(1, RECENT_VERSIONS)
    )
    return _RECOMMENDATIONS.validate_python(
        {
            "current": None if header is None else await _detail(session, header, page, urgent),
            "versions": [_summary(r) for r in versions.items],
            "versions_total": versions.total,
        }
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
) -> RecommendationDetail:
    header = await recommendations_repo.header_row(session, scope.customer_id, version)
    if header is None:
        raise NotFound(f"recommendation version {version} not found", field="version")
    return _DETAIL.validate_python(await _detail(session, header, page, urgent))
