"""Drafts: a buyer's edits kept on the server against the version waiting for a decision,
so another tab or session sees them and the approval takes them.

A draft is checked by the planner's quantity rules as it is saved (pack multiple, minimum
order, one pack fits a container); a change that fails is refused whole, naming the line,
and nothing already saved is lost. A quantity equal to the suggestion is no edit. A product
of the customer's catalogue the version does not order is added by giving it a quantity
(`services.additions`); 0 or None takes it out again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput, NotFound
from planning.edits import validate_quantities
from planning.models import Product
from planning.packing import effective_moq
from services.additions import catalogue_products
from services.approval_review import as_refusal
from services.customer_settings import plan_settings
from services.recommend import as_product, stored_settings
from store import customer_settings as settings_repo
from store import drafts as drafts_repo
from store import recommendations as recommendations_repo
from store.models import RecommendationStatus


class Draft(BaseModel):
    version: int
    edits: dict[str, int] = Field(description="Product code -> drafted quantity (cartons)")


async def _current_header(session: AsyncSession, customer_id: int, version: int) -> dict[str, Any]:
    header = await recommendations_repo.header_row(session, customer_id, version)
    if header is None:
        raise NotFound(f"recommendation v{version} not found")
    return header


async def get_draft(session: AsyncSession, customer_id: int, version: int) -> Draft:
    header = await _current_header(session, customer_id, version)
    return Draft(version=version, edits=await drafts_repo.draft_of(session, header["id"]))


async def save_draft(
    session: AsyncSession,
    customer_id: int,
    version: int,
    changes: Mapping[str, int | None],
    actor: str,
) -> Draft:
    """Apply `changes` (None: back to the suggestion) to the version's draft."""
    header = await _current_header(session, customer_id, version)
    if header["status"] != RecommendationStatus.CURRENT.value:
        raise Conflict(
            f"version: v{version} is {header['status']}; only the version waiting for a "
            "decision takes edits",
            field="version",
        )
    lines = {
        line["product_code"]: line
        for line in await recommendations_repo.all_line_rows(session, header["id"])
    }
    catalogue = await catalogue_products(
        session, customer_id, [code for code, qty in changes.items() if code not in lines and qty]
    )
    settings = stored_settings(await recommendations_repo.settings_of(session, header["id"]))
    if settings is None:
        settings = plan_settings(await settings_repo.get_or_create(session, customer_id))
    quantities = {code: qty for code, qty in changes.items() if qty is not None}
    products = [
        Product(
            code=code,
            name=lines[code]["name"],
            pack_size=lines[code]["pack_size"],
            moq=lines[code]["moq"],
            carton_weight_kg=lines[code]["carton_weight_kg"],
            carton_volume_m3=lines[code]["carton_volume_m3"],
        )
        for code in quantities
        if code in lines
    ] + [as_product(catalogue[code]) for code in quantities if code in catalogue]
    quantities = {code: qty for code, qty in quantities.items() if code in lines or qty}
    try:
        validate_quantities(quantities, products, settings)
    except InvalidInput as err:
        raise as_refusal(err) from err
    edits = {
        code: qty
        for code, qty in quantities.items()
        if qty != (lines[code]["quantity"] if code in lines else 0)
    }
    reset = {code for code in changes if code not in edits}
    await drafts_repo.save(session, header["id"], edits, reset, actor)
    return Draft(version=version, edits=await drafts_repo.draft_of(session, header["id"]))


async def draft_without_pull_forward(
    session: AsyncSession, customer_id: int, version: int, actor: str
) -> Draft:
    """Draft every pulled-forward line down to its need: the suggestion less the cartons
    pulled forward, rounded up to the pack and the minimum order (0 where only pull-forward
    was ordered). The last container then ships part-filled; the review says whether the
    containers still hold the same count."""
    header = await _current_header(session, customer_id, version)
    changes: dict[str, int | None] = {}
    for line in await recommendations_repo.all_line_rows(session, header["id"]):
        pulled = (line["explanation"] or {}).get("pull_forward_cartons") or 0
        if pulled:
            changes[line["product_code"]] = without_pull_forward(
                line["quantity"], pulled, line["pack_size"], line["moq"]
            )
    return await save_draft(session, customer_id, version, changes, actor)


def without_pull_forward(quantity: int, pulled: int, pack_size: int, moq: int) -> int:
    need = quantity - pulled
    if need <= 0:
        return 0
    return max(-(-need // pack_size) * pack_size, effective_moq(pack_size, moq))


async def reset_draft(session: AsyncSession, customer_id: int, version: int) -> Draft:
    header = await _current_header(session, customer_id, version)
    await drafts_repo.clear(session, header["id"])
    return Draft(version=version, edits={})
