"""What an approval with edits sends to the ERP: the chosen containers' products with the
edited quantities, packed again, and held to the containers the buyer chose.

Each container is one ERP order. Edits that need more containers than were chosen (an extra
zero on a quantity) or fewer (the approval would silently merge two) are refused with the
reason, so the number of ERP orders is always the number the buyer approved. The workflow's
validator and the portal's review step call this same function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planning.errors import ContainerCountChanged
from planning.packing import Limits, PackItem, effective_moq, pack, to_containers
from planning.schemas import Container


def edited_items(chosen: Sequence[Sequence[PackItem]], edits: Mapping[str, int]) -> list[PackItem]:
    """One item per product of the chosen containers, with its edited total; zero drops it.
    Urgent products first, each in the order it first appears."""
    totals: dict[str, int] = {}
    first: dict[str, PackItem] = {}
    for lines in chosen:
        for item in lines:
            totals[item.product_code] = totals.get(item.product_code, 0) + item.quantity
            first.setdefault(item.product_code, item)
    totals.update({code: qty for code, qty in edits.items() if code in totals})
    items = [
        PackItem(
            product_code=code,
            quantity=qty,
            urgent=first[code].urgent,
            carton_weight_kg=first[code].carton_weight_kg,
            carton_volume_m3=first[code].carton_volume_m3,
            pack_size=first[code].pack_size,
            min_quantity=first[code].min_quantity,
        )
        for code, qty in totals.items()
        if qty > 0
    ]
    items.sort(key=lambda item: not item.urgent)
    return items


def approved_containers(
    chosen: Sequence[Sequence[PackItem]], edits: Mapping[str, int], limits: Limits
) -> list[Container]:
    """The containers an approval sends: the chosen ones re-packed with the edits.

    Raises ContainerCountChanged when the edited quantities do not pack into exactly as many
    containers as were chosen."""
    boxes, _ = pack(edited_items(chosen, edits), limits)
    containers = to_containers(boxes)
    if len(containers) != len(chosen):
        raise ContainerCountChanged(
            chosen=len(chosen),
            needed=len(containers),
            cartons=sum(c.cartons for c in containers),
            limits=limits,
        )
    return containers


def pack_item(
    code: str,
    quantity: int,
    *,
    pack_size: int,
    moq: int,
    urgent: bool = False,
    carton_weight_kg: float | None = None,
    carton_volume_m3: float | None = None,
) -> PackItem:
    """A line as the packer sees it (its minimum share is the MOQ as a pack multiple)."""
    return PackItem(
        product_code=code,
        quantity=quantity,
        urgent=urgent,
        carton_weight_kg=carton_weight_kg,
        carton_volume_m3=carton_volume_m3,
        pack_size=pack_size,
        min_quantity=effective_moq(pack_size, moq),
    )
