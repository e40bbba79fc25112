"""A customer's recommendations: the current version and every past version.

Lines come a page at a time (a 4,000-product customer can have thousands, each with an
explanation); containers always come whole.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth.deps import MAX_ID, CustomerScopeDep
from api.deps import SessionDep
from api.recommendation_json import detail_json, splice
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, PageRequestDep
from core.errors import NotFound
from services.views.recommendations import (
    RECENT_VERSIONS,
    RecommendationDetail,
    Recommendations,
    summary_row,
)
from store import recommendations as recommendations_repo
from store.pagination import PageRequest

router = APIRouter(prefix="/api/customers", tags=["recommendations"])

UrgentOnly = Annotated[bool, Query(description="Only urgent lines")]


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
            {
                "versions": [summary_row(r) for r in versions.items],
                "versions_total": versions.total,
            },
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
