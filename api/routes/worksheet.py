"""The recommendation as a worksheet (sorted, searched, filtered, totalled; CSV and XLSX
exports of exactly the selected rows) and the buyer's draft of edits on the server."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth.deps import MAX_ID, CustomerRecordDep, CustomerScope, CustomerScopeDep
from api.deps import SessionDep, WorksheetQueryDep
from api.schemas.common import TENANT_ERRORS, VALIDATION_ERROR, PageRequestDep
from api.schemas.cycles import CODES_ONLY, ProductCode
from core.errors import InvalidInput, NotFound
from services import draft_imports
from services.draft_imports import Imported, PastedLines
from services.drafts import (
    Draft,
    draft_without_pull_forward,
    get_draft,
    reset_draft,
    save_draft,
)
from services.tables import EXPORTS, attachment, encode
from services.worksheet import Worksheet, export_rows, worksheet
from store import recommendations as recommendations_repo
from store.models import CustomerRole

router = APIRouter(prefix="/api/customers", tags=["recommendations"])


def _may_edit(scope: CustomerScope) -> None:
    scope.principal.require_customer_role(
        CustomerRole.BUYER, CustomerRole.APPROVER, doing="editing the recommendation"
    )


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
    scope: CustomerRecordDep,
    session: SessionDep,
    version: Version,
    extension: Annotated[str, Path(pattern="^(csv|xlsx)$", description="csv or xlsx")],
    query: WorksheetQueryDep,
) -> Response:
    header = await _header(session, scope.customer_id, version)
    sheet = await worksheet(session, scope.customer_id, header, query, page_size=None)
    name = f"recommendation-{scope.customer.erp_code}-v{version}"
    body = encode(export_rows(sheet), extension, f"v{version}")
    return Response(body, headers=attachment(name, extension))


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
    _may_edit(scope)
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
    _may_edit(scope)
    return await draft_without_pull_forward(
        session, scope.customer_id, version, scope.principal.actor
    )


@router.post(
    "/{customer_id}/recommendations/{version}/draft/paste",
    response_model=Imported,
    summary="Set quantities from pasted `CODE quantity` lines (a spreadsheet's columns); any "
    "wrong line is named (`problems`, by line) and nothing is kept",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT},
)
async def paste_into_draft(
    body: PastedLines, scope: CustomerScopeDep, session: SessionDep, version: Version
) -> Imported:
    _may_edit(scope)
    return await draft_imports.paste(
        session, scope.customer_id, version, body.text, scope.principal.actor
    )


@router.post(
    "/{customer_id}/recommendations/{version}/draft/csv",
    response_model=Imported,
    summary="Set quantities from an uploaded CSV file (the body, `text/csv`): code and "
    "quantity in its first two columns, a header row skipped; any wrong row is named "
    "(`problems`, by line) and nothing is kept",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "code,quantity\nP-00017,2400\n",
                }
            },
        }
    },
)
async def upload_csv_into_draft(
    request: Request, scope: CustomerScopeDep, session: SessionDep, version: Version
) -> Imported:
    _may_edit(scope)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in CSV_TYPES:
        raise InvalidInput(
            f"content-type: send the file as text/csv, not {kind or 'nothing'}",
            field="content-type",
        )
    text = draft_imports.decoded_csv(await request.body())
    return await draft_imports.paste(
        session,
        scope.customer_id,
        version,
        draft_imports.csv_as_lines(text),
        scope.principal.actor,
        field="file",
    )


CSV_TYPES = frozenset({"text/csv", "text/plain", "application/vnd.ms-excel"})


@router.post(
    "/{customer_id}/recommendations/{version}/draft/from-order/{order_id}",
    response_model=Imported,
    summary="Order again: draft an earlier order's quantities (a product this version does not "
    "order is added; those no longer sold are listed in `skipped`)",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR, **CONFLICT},
)
async def order_again(
    scope: CustomerScopeDep,
    session: SessionDep,
    version: Version,
    order_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The earlier order's id")],
) -> Imported:
    _may_edit(scope)
    return await draft_imports.order_again(
        session, scope.customer_id, version, order_id, scope.principal.actor
    )


@router.delete(
    "/{customer_id}/recommendations/{version}/draft",
    response_model=Draft,
    summary="Set every line back to the suggestion",
    responses={**TENANT_ERRORS, **VALIDATION_ERROR},
)
async def clear_draft(scope: CustomerScopeDep, session: SessionDep, version: Version) -> Draft:
    _may_edit(scope)
    return await reset_draft(session, scope.customer_id, version)
