"""Planning errors, in the project's hierarchy so the API maps them to 422 once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import InvalidInput

if TYPE_CHECKING:
    from planning.packing import Limits


class InvalidQuantity(InvalidInput):
    """An edited or packed quantity breaks a product rule (pack multiple, MOQ, status)."""

    code = "invalid_quantity"

    def __init__(self, product_code: str, problem: str) -> None:
        super().__init__(
            f"product {product_code}: {problem}", field=f"lines.{product_code}.quantity"
        )
        self.product_code = product_code
        self.problem = problem


class UnpackableProduct(InvalidInput):
    """One carton of the product does not fit in an empty container (weight or volume)."""

    code = "unpackable_product"

    def __init__(self, product_code: str, problem: str) -> None:
        super().__init__(f"product {product_code}: {problem}", field="settings")
        self.product_code = product_code
        self.problem = problem


class PlanTooLarge(InvalidInput):
    """The order would need an absurd number of containers: the data is wrong (or a policy
    has run away, as a backtest can show), and packing it would take minutes."""

    code = "plan_too_large"

    def __init__(self, containers: int, limit: int) -> None:
        super().__init__(
            f"the order would need at least {containers:,} containers (the limit is "
            f"{limit:,}): check stock, history and container capacity",
            field="products",
        )
        self.containers = containers
        self.limit = limit


class ContainerCountChanged(InvalidInput):
    """Edited quantities that pack into a different number of containers than were chosen:
    each container is one ERP order, so approving them would send orders nobody chose."""

    code = "container_count_changed"

    def __init__(self, *, chosen: int, needed: int, cartons: int, limits: Limits) -> None:
        capacity = f"{limits.cartons:,} cartons"
        if limits.weight_kg:
            capacity += f", {limits.weight_kg:,.0f} kg"
        if limits.volume_m3:
            capacity += f", {limits.volume_m3:,.1f} m³"
        if needed > chosen:
            problem = (
                f"the edited quantities ({cartons:,} cartons) need {needed} containers of at "
                f"most {capacity}, but {chosen} {'was' if chosen == 1 else 'were'} chosen: "
                f"approving would send {needed} ERP orders. Lower the quantities (a typo?) "
                "or choose more containers"
            )
        else:
            problem = (
                f"the edited quantities ({cartons:,} cartons) fit in {needed} container"
                f"{'' if needed == 1 else 's'}, but {chosen} were chosen: approving would "
                f"merge them into {needed} ERP order{'' if needed == 1 else 's'}. Choose "
                f"{needed} container{'' if needed == 1 else 's'}, or raise the quantities"
            )
        super().__init__(problem, field="edits")
        self.chosen = chosen
        self.needed = needed
