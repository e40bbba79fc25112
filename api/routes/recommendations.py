"""A customer's recommendations: the current version and every past version.

Lines come a page at a time (a 4,000-product customer can have thousands, each with an
explanation); containers always come whole.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response

from api.auth.deps import MAX_ID, CustomerScopeDep
from api.deps import ResourcesDep, SessionDep
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
    scope: CustomerScopeDep,
    session: SessionDep,
    resources: ResourcesDep,
    page: PageRequestDep,
    urgent: UrgentOnly = False,
) -> Response:
    header = await recommendations_repo.header_row(session, scope.customer_id)
    versions = await recommendations_repo.version_rows(
        session, scope.customer_id, PageRequest(1, RECENT_VERSIONS)
    )
    current = (
        b"null"
        if header is None
        else await detail_json(session, header, page, urgent, resources.rendered_versions)
    )
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
    summary="One version of the customer's recommendations, with a page of its lines; "
    "answers carry an ETag, and If-None-Match with it answers 304 (a version is immutable "
    "but for its status)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, 304: {"description": "Not modified"}},
)
async def recommendation_version(
    scope: CustomerScopeDep,
    session: SessionDep,
    resources: ResourcesDep,
    version: Annotated[int, Path(ge=1, le=MAX_ID, description="Version number", examples=[3])],
    page: PageRequestDep,
    if_none_match: Annotated[str | None, Header(description="An ETag of this answer")] = None,
    urgent: UrgentOnly = False,
) -> Response:
    header = await recommendations_repo.header_row(session, scope.customer_id, version)
    if header is None:
        raise NotFound(f"recommendation version {version} not found", field="version")
    tag = version_etag(header, page, urgent)
    if if_none_match is not None and tag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": tag})
    answer = _json(await detail_json(session, header, page, urgent, resources.rendered_versions))
    answer.headers["ETag"] = tag
    return answer


def version_etag(header: dict[str, Any], page: PageRequest, urgent: bool) -> str:
    """A stored version's lines and containers never change; only its status does (decided,
    superseded). So the tag is the version's identity, its status and this page of it: a
    client that has it is answered 304 without a line being read."""
    decided = header["decided_at"].isoformat() if header["decided_at"] else "-"
    raw = f"{header['id']}|{header['status']}|{decided}|{page.page}|{page.page_size}|{urgent}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'
