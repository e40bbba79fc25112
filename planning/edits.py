"""The one rule set for quantities a buyer edits (the approval's validator calls it too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planning import shares
from planning.errors import InvalidQuantity
from planning.models import Product, ProductStatus
from planning.packing import Box, Limits, PackItem, effective_moq, unsplittable
from planning.settings import PlanSettings


def validate_quantities(
    quantities: Mapping[str, int],
    products: Sequence[Product],
    settings: PlanSettings | None = None,
) -> None:
    """Check edited quantities: known, active product; 0 (remove) or a pack multiple at
    least the MOQ; with `settings`, also that one pack fits a container and that the
    quantity splits into containers with every share at least the MOQ (each container is
    its own ERP order). Pure and cheap: the approval's validator calls it.

    Raises InvalidQuantity naming the product and the problem (field
    `lines.<code>.quantity`), for the first offending line.
    """
    by_code = {p.code: p for p in products}
    limits = Limits.from_settings(settings) if settings is not None else None
    for code, qty in quantities.items():
        product = by_code.get(code)
        if product is None:
            raise InvalidQuantity(code, "unknown product")
        if qty < 0:
            raise InvalidQuantity(code, f"quantity {qty:,} is negative")
        if qty == 0:
            continue
        if product.status is ProductStatus.DISCONTINUED:
            raise InvalidQuantity(code, "product is discontinued and cannot be ordered")
        if qty % product.pack_size:
            lower = qty // product.pack_size * product.pack_size
            raise InvalidQuantity(
                code,
                f"quantity {qty:,} is not a multiple of the pack size {product.pack_size:,} "
                f"(nearest: {lower:,} or {lower + product.pack_size:,})",
            )
        minimum = effective_moq(product.pack_size, product.moq)
        if qty < minimum:
            raise InvalidQuantity(code, f"quantity {qty:,} is below the minimum order {minimum:,}")
        if limits is None:
            continue
        item = PackItem(
            code,
            qty,
            carton_weight_kg=product.carton_weight_kg,
            carton_volume_m3=product.carton_volume_m3,
            pack_size=product.pack_size,
        )
        whole = Box(limits).room_for(item)
        if whole < product.pack_size:
            raise InvalidQuantity(code, "one pack does not fit in an empty container")
        if not shares.splits(qty, whole, minimum):
            raise unsplittable(code, qty, whole, minimum)
