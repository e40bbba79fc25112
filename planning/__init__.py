"""The replenishment engine: forecast, policy, containers, explanations. Pure; no I/O.

Public API: `plan(PlanInput) -> Recommendation`; `repack(lines, settings)` and
`validate_quantities(quantities, products)` for buyer edits; `PlanSettings`.
"""

from planning.edits import validate_quantities
from planning.engine import plan
from planning.packing import repack
from planning.schemas import (
    Container,
    Explanation,
    Line,
    PlanInput,
    PlanStatus,
    ProductPlan,
    Recommendation,
)
from planning.settings import PlanSettings

__all__ = [
    "Container",
    "Explanation",
    "Line",
    "PlanInput",
    "PlanSettings",
    "PlanStatus",
    "ProductPlan",
    "Recommendation",
    "plan",
    "repack",
    "validate_quantities",
]
