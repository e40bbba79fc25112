"""Products a buyer adds that the recommendation does not order.

An approval names them by code with a quantity in its edits; the API reads each one's facts
from the customer's latest sync (pack, minimum order, weight, volume, status, price at that
quantity) and sends them with the approval, so the cycle checks and packs them by the same
rules as a line. A code the customer's catalogue does not hold is named, not guessed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput
from planning.approval import pack_item
from planning.models import Product, ProductStatus
from planning.packing import PackItem
from services.prices import price_book
from store import recommendations as recommendations_repo
from store import snapshots
from store.models import SnapshotProduct
from workflows.contract.cycle import MAX_ADDED, AddedProduct


async def added_products(
    session: AsyncSession, customer_id: int, version: int, edits: Mapping[str, int]
) -> list[AddedProduct]:
    """The edited products `version` does not order, in the order the edits name them."""
    if not edits:
        return []  # most approvals: no query at all
    header = await recommendations_repo.header_row(session, customer_id, version)
    if header is None:
        return []  # no such version: the cycle refuses it, naming the version it waits on
    ordered = await recommendations_repo.codes_ordered(session, header["id"], list(edits))
    new = [code for code in edits if code not in ordered]
    if not new:
        return []
    if len(new) > MAX_ADDED:
        raise InvalidInput(
            f"at most {MAX_ADDED:,} products the recommendation does not order are added at "
            f"once, not {len(new):,}",
            field="edits",
        )
    products = await catalogue_products(session, customer_id, new)
    book = await price_book(session, customer_id, new)
    as_of: date = header["as_of"]
    return [added(products[code], book.line(code, edits[code], as_of).unit_price) for code in new]


async def catalogue_products(
    session: AsyncSession, customer_id: int, codes: list[str]
) -> dict[str, SnapshotProduct]:
    """The customer's products of these codes as the latest sync read them; an unknown code
    is refused (409 `unknown_product` naming `edits.<code>`, as a line's rules are)."""
    if not codes:
        return {}
    found = {p.code: p for p in await snapshots.products_by_code(session, customer_id, codes)}
    for code in codes:
        if code not in found:
            raise Conflict(
                f"edits.{code}: no product {code} in the customer's catalogue (as of the "
                "latest sync)",
                field=f"edits.{code}",
                code="unknown_product",
            )
    return found


def added(product: SnapshotProduct, unit_price: Decimal | None = None) -> AddedProduct:
    return AddedProduct(
        product_code=product.code,
        name=product.name,
        pack_size=product.pack_size,
        moq=product.moq,
        discontinued=product.product_status == ProductStatus.DISCONTINUED.value,
        carton_weight_kg=product.carton_weight_kg,
        carton_volume_m3=product.carton_volume_m3,
        unit_price=unit_price,
    )


def with_added(items: list[list[PackItem]], added: list[AddedProduct]) -> list[list[PackItem]]:
    """The chosen containers' items (in index order) with the added products, of no
    quantity yet (the edits give it), in the first: where the cycle's validator puts them
    (`cycle_rules.with_additions`), so all three pack alike."""
    if not items or not added:
        return items
    extra = [
        pack_item(
            a.product_code,
            0,
            pack_size=a.pack_size,
            moq=a.moq,
            carton_weight_kg=a.carton_weight_kg,
            carton_volume_m3=a.carton_volume_m3,
        )
        for a in added
    ]
    return [[*items[0], *extra], *items[1:]]


def as_product(a: AddedProduct) -> Product:
    """An added product as the planner's quantity rules see it."""
    return Product(
        code=a.product_code,
        name=a.name,
        pack_size=a.pack_size,
        moq=a.moq,
        status=ProductStatus.DISCONTINUED if a.discontinued else ProductStatus.ACTIVE,
        carton_weight_kg=a.carton_weight_kg,
        carton_volume_m3=a.carton_volume_m3,
    )
