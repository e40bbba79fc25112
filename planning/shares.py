"""How a product's order splits into containers when each container is its own ERP order.

Every share must be a pack multiple and at least the MOQ (as a pack multiple, `minimum`),
and at most what one container takes (`per_container`, in packs). A quantity q then needs
k = ceil(q / per_container) shares, and splits only if k * minimum <= q: with an MOQ above
half a container some quantities cannot be ordered at all (201 cartons, MOQ 84, containers
of 100: two shares hold at most 200, three need at least 252).
"""

from __future__ import annotations

import math


def splits(quantity: int, per_container: int, minimum: int) -> bool:
    """Whether `quantity` can be cut into container shares of at least `minimum`."""
    if quantity <= 0:
        return quantity == 0
    if per_container <= 0 or minimum > per_container:
        return False
    return math.ceil(quantity / per_container) * minimum <= quantity


def nearest(quantity: int, per_container: int, minimum: int) -> tuple[int | None, int | None]:
    """The orderable quantities just below and just above `quantity` (None: there is none)."""
    if minimum > per_container or per_container <= 0:
        return None, None
    k = math.ceil(quantity / per_container)
    below = (k - 1) * per_container if k > 1 else None
    return below, k * minimum


def share(room: int, remaining: int, minimum: int, per_container: int) -> int:
    """The largest share of `remaining` that fits `room` and leaves a rest that still
    splits (0 when none does). All figures are pack multiples; `room` too."""
    first = min(room, remaining)
    if first <= 0:
        return 0
    left = remaining - first
    if left > 0:
        k = math.ceil(left / per_container) if per_container > 0 else 0
        left = max(left, k * max(minimum, 0))
    taken = remaining - left
    return taken if taken >= max(minimum, 1) else 0
