"""The recommendation as a worksheet (sorted, searched, filtered, totalled; CSV and XLSX
exports of exactly the selected rows) and the buyer's draft of edits on the server."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth.deps import MAX_ID, CustomerScopeDep
from api.deps import SessionDep, WorksheetQueryDep
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, PageRequestDep
from api.schemas.cycles import CODES_ONLY, ProductCode
from core.errors import NotFound
from services.drafts import (
    Draft,
    draft_without_pull_forward,
    get_draft,
    reset_draft,
    save_draft,
)
from services.worksheet import (
    Worksheet,
    to_csv,
    to_xlsx,
    worksheet,
)
from store import recommendations as recommendations_repo

router = APIRouter(prefix="/api/customers", tags=["recommendations"])

Version = Annotated[int, Path(ge=1, le=MAX_ID, description="Version number", examples=[3])]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The version is no longer waiting, or an edit breaks a line's rules"}
}


async def _header(session: SessionDep, customer_id: int, version: int) -> dict[str, Any]:
    header = await recommendations_repo.header_row(session, customer_id, version)
    if header is None:
        raise NotFound(f"recommendation version {version} not found", field="version")
    return header


@router.get(
    "/{customer_id}/recommendations/{version}/worksheet",
    response_model=Worksheet,
    summary="The version's lines as a worksheet: sort, search and filter, one page, with "
    "totals of the page, of the selection and of the whole recommendation",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def get_worksheet(
    scope: CustomerScopeDep,
    session: SessionDep,
    version: Version,
    query: WorksheetQueryDep,
    page: PageRequestDep,
) -> Worksheet:
    header = await _header(session, scope.customer_id, version)
    return await worksheet(session, scope.customer_id, header, query, page.page, page.page_size)


EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/{customer_id}/recommendations/{version}/worksheet.{extension}",
    summary="Export every row the worksheet query selects, in its order (CSV or XLSX)",
    responses={
        **TENANT_ERRORS,
        **VALIDATION_ERROR,
        200: {"content": {media: {} for media in EXPORTS.values()}},
    },
    response_class=Response,
)
async def export_worksheet(
    scope: CustomerScopeDep,
    session: SessionDep,
    version: Version,
    extension: Annotated[str, Path(pattern="^(csv|xlsx)$", description="csv or xlsx")],
    query: WorksheetQueryDep,
) -> Response:
    header = await _header(session, scope.customer_id, version)
    sheet = await worksheet(session, scope.customer_id, header, query, page_size=None)
    name = f"recommendation-{scope.customer.erp_code}-v{version}"
    body = to_csv(sheet) if extension == "csv" else to_xlsx(sheet, f"v{version}")
    return Response(
        body,
        media_type=EXPORTS[extension],
        headers={"Content-Disposition": f'attachment; filename="{name}.{extension}"'},
    )


class DraftChanges(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"edits": {"P-00017": 2_400, "P-00031": None}}]},
    )

    edits: dict[ProductCode, Annotated[int, Field(ge=0, le=100_000_000)] | None] = Field(
        max_length=10_000,
        description="Product code -> drafted quantity in cartons; null sets the line back to "
        "the suggestion",
        json_schema_extra=CODES_ONLY,
    )


@router.get(
    "/{customer_id}/recommendations/{version}/draft",
    response_model=Draft,
    summary="The edits saved against this version (every tab and session sees them)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def read_draft(scope: CustomerScopeDep, session: SessionDep, version: Version) -> Draft:
    return await get_draft(session, scope.customer_id, version)


@router.patch(
    "/{customer_id}/recommendations/{version}/draft",
    response_model=Draft,
    summary="Save edits to the draft (null: back to the suggestion); each is checked by the "
    "planner's rules, and a refused change saves nothing",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT},
)
async def change_draft(
    body: DraftChanges, scope: CustomerScopeDep, session: SessionDep, version: Version
) -> Draft:
    return await save_draft(session, scope.customer_id, version, body.edits, scope.principal.actor)


@router.post(
    "/{customer_id}/recommendations/{version}/draft/without-pull-forward",
    response_model=Draft,
    summary="Draft every pulled-forward line down to its need (the last container then ships "
    "part-filled); review before approving",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT},
)
async def drop_pull_forward(
    scope: CustomerScopeDep, session: SessionDep, version: Version
) -> Draft:
    return await draft_without_pull_forward(
        session, scope.customer_id, version, scope.principal.actor
    )


@router.delete(
    "/{customer_id}/recommendations/{version}/draft",
    response_model=Draft,
    summary="Set every line back to the suggestion",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def clear_draft(scope: CustomerScopeDep, session: SessionDep, version: Version) -> Draft:
    return await reset_draft(session, scope.customer_id, version)
