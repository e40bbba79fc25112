"""Seeded mid-size plan inputs whose `Recommendation`s are pinned in `data/golden.json`.

The fixture pins the engine's output: a change in any field fails `test_golden.py`. It
was first written before the performance work (packing fast path, model_construct,
vectorised explanations), proving those left every field as it was, and rewritten on
purpose for issue #12 (history sources, measured lead time, the `auto` last container,
service-level safety stock from the forecast's error, urgency and rounding thresholds).
Regenerate only on a deliberate behaviour change:

    .venv/bin/python -m tests.planning.golden
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from planning.models import ErpOrder, OrderLine, OrderStatus, Product, ProductStatus, Shipment
from planning.schemas import PlanInput
from planning.settings import PlanSettings
from tests.planning.factories import AS_OF

FIXTURE = Path(__file__).parent / "data" / "golden.json"

# name -> (products, seed, settings): cartons only with top-up (the bench's shape), weight
# and volume limits, and the drop rule with missing stock skipped.
CASES: dict[str, tuple[int, int, dict[str, Any]]] = {
    "cartons_top_up": (300, 11, {"container_capacity_cartons": 6_000}),
    "weight_volume": (
        120,
        12,
        {
            "container_capacity_cartons": 5_000,
            "container_max_weight_kg": 26_000.0,
            "container_max_volume_m3": 60.0,
            "safety_stock_mode": "service_level",
        },
    ),
    "drop_skip": (
        120,
        13,
        {
            "container_capacity_cartons": 40_000,
            "last_container": "drop",
            "missing_stock": "skip",
            "lead_time_weeks": 6,
            "target_soh_overrides": {"G0003": 12.0, "G0010": 3.0},
        },
    ),
}


def golden_input(n: int, seed: int, settings: dict[str, Any], weeks: int = 156) -> PlanInput:
    """Smooth, seasonal, intermittent and new products with packs, MOQs, odd stock data."""
    rng = random.Random(seed)
    products: list[Product] = []
    shipments: list[Shipment] = []
    for i in range(n):
        code = f"G{i:04d}"
        kind = rng.choice(["smooth", "smooth", "seasonal", "intermittent", "new", "none"])
        rate = rng.lognormvariate(3.5, 1.0)
        launch = rng.randint(weeks - 30, weeks - 2) if kind == "new" else 0
        for k in range(weeks):
            if kind == "none" or k < launch:
                continue
            level = rate * (1.5 if kind == "seasonal" and (k // 13) % 4 == 1 else 1.0)
            if kind == "intermittent" and rng.random() > 0.25:
                continue
            qty = max(0, round(rng.gauss(level, level**0.5)))
            if qty:
                day = AS_OF - timedelta(days=7 * (weeks - k) - rng.randint(0, 6))
                shipments.append(Shipment(product_code=code, ship_date=day, quantity=qty))
        roll = rng.random()
        stock: int | None = None  # missing from the ERP
        if roll >= 0.08:
            stock = int(rate * rng.uniform(0, 16))
        elif roll >= 0.05:
            stock = -rng.randint(1, 50)
        products.append(
            Product(
                code=code,
                name=f"Golden product {i}",
                pack_size=rng.choice([1, 6, 12, 24]),
                moq=rng.choice([0, 0, 100, 500]),
                status=ProductStatus.DISCONTINUED if rng.random() < 0.04 else ProductStatus.ACTIVE,
                carton_weight_kg=round(rng.uniform(2, 25), 2) if rng.random() < 0.9 else None,
                carton_volume_m3=round(rng.uniform(0.005, 0.06), 4) if rng.random() < 0.9 else None,
                stock_on_hand=stock,
            )
        )
    shipments.append(Shipment(product_code="UNKNOWN", ship_date=AS_OF, quantity=5))
    pipeline = [
        ErpOrder(
            order_number=f"O-{j}",
            status=rng.choice(list(OrderStatus)),
            ordered_on=AS_OF - timedelta(weeks=rng.randint(1, 12)),
            eta=None if rng.random() < 0.1 else AS_OF + timedelta(days=rng.randint(-10, 70)),
            lines=[
                OrderLine(product_code=f"G{rng.randrange(n + 2):04d}", quantity=rng.randint(1, 900))
                for _ in range(rng.randint(1, 4))
            ],
        )
        for j in range(n // 10)
    ]
    return PlanInput(
        as_of=AS_OF,
        settings=PlanSettings(**settings),
        products=products,
        shipments=shipments,
        pipeline=pipeline,
    )


def golden_inputs() -> dict[str, PlanInput]:
    return {name: golden_input(n, seed, s) for name, (n, seed, s) in CASES.items()}


def main() -> None:
    from planning import plan

    out = {name: plan(inp).model_dump(mode="json") for name, inp in golden_inputs().items()}
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(out, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
