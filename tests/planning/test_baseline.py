"""The vectorised spreadsheet baseline orders exactly what the engine orders with the
trailing average, so the benchmark's fast path measures the same calculation."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from planning.baseline import baseline_orders
from planning.engine import Catalog, horizon_weeks, quantities
from planning.history import History
from planning.models import Product, ProductStatus
from planning.settings import PlanSettings


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    lead=st.sampled_from([0, 1, 2.5, 6, 8.4, 12]),
    target=st.sampled_from([3.0, 8.5]),
)
def test_baseline_matches_engine_trailing_average(seed: int, lead: float, target: float) -> None:
    rng = np.random.default_rng(seed)
    n, t = 40, 60
    y = rng.poisson(rng.uniform(0, 80, (n, 1)), (n, t)).astype(float)
    y[rng.random(n) < 0.2, : rng.integers(1, t)] = 0  # some products launched recently
    products = [
        Product(
            code=f"P{i}",
            name="p",
            pack_size=int(rng.choice([1, 6, 24])),
            moq=int(rng.choice([0, 100])),
            status=ProductStatus.DISCONTINUED if rng.random() < 0.1 else ProductStatus.ACTIVE,
            stock_on_hand=int(rng.integers(-50, 2000)),
        )
        for i in range(n)
    ]
    s = PlanSettings(
        forecast_method="trailing_average",
        lead_time_weeks=lead,
        target_soh_weeks=target,
        last_container="keep",
        safety_stock_mode="weeks",  # the spreadsheet's rule
    )
    arrivals = np.zeros((n, horizon_weeks(s)))
    arrivals[rng.integers(0, n, 10), rng.integers(0, int(lead) + 1, 10)] = 500
    catalog = Catalog.of(products)
    history = History.from_weekly(y)
    engine = quantities(s, catalog, history, arrivals).base_order
    stock = np.array([p.stock_on_hand or 0 for p in products], dtype=float)
    fast = baseline_orders(history, stock, arrivals, catalog.pack, catalog.moq, catalog.active, s)
    assume(engine.sum() > 0)  # an input that orders nothing proves little; draw another
    assert fast.tolist() == engine.tolist()
