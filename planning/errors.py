"""Planning errors, in the project's hierarchy so the API maps them to 422 once."""

from __future__ import annotations

from core.errors import InvalidInput


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
