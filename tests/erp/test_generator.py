"""The demo data generator: deterministic, realistic shapes, and a consistent history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from erp.simulator.generator import (
    DEMO_CUSTOMERS,
    DEMO_LARGE,
    DEMO_MEDIUM,
    DEMO_SMALL,
    CustomerSpec,
    DemandProcess,
    GeneratedCustomer,
    day_index,
    demo_spec,
    generate_customer,
)
from erp.simulator.world import SimWorld, SubmittedLine
from planning.models import OrderStatus, ProductStatus

TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def medium() -> GeneratedCustomer:
    return generate_customer(demo_spec(DEMO_MEDIUM), seed=7, today=TODAY)


def weekly(daily: np.ndarray) -> np.ndarray:
    weeks = daily.shape[1] // 7
    return daily[:, : weeks * 7].reshape(daily.shape[0], weeks, 7).sum(axis=2)


def rows_of(customer: GeneratedCustomer, pattern: str) -> np.ndarray:
    return np.array([customer.patterns[p.code] == pattern for p in customer.products])


def test_demo_customers_are_the_three_pilots() -> None:
    sizes = {spec.code: spec.n_products for spec in DEMO_CUSTOMERS}
    assert sizes == {DEMO_SMALL: 40, DEMO_MEDIUM: 400, DEMO_LARGE: 4_000}


def test_same_inputs_give_the_same_customer(medium: GeneratedCustomer) -> None:
    again = generate_customer(demo_spec(DEMO_MEDIUM), seed=7, today=TODAY)
    assert again.profile == medium.profile
    assert again.products == medium.products
    assert again.shipments == medium.shipments
    assert again.orders == medium.orders
    assert again.patterns == medium.patterns
    assert np.array_equal(again.demand(TODAY, 364), medium.demand(TODAY, 364))


def test_another_seed_gives_other_data(medium: GeneratedCustomer) -> None:
    other = generate_customer(demo_spec(DEMO_MEDIUM), seed=8, today=TODAY)
    assert [p.code for p in other.products] != [p.code for p in medium.products]
    assert not np.array_equal(other.demand(TODAY, 28), medium.demand(TODAY, 28))


def test_demand_is_the_same_whatever_window_asks(medium: GeneratedCustomer) -> None:
    long = medium.demand(TODAY - timedelta(days=400), 800)
    short = medium.demand(TODAY + timedelta(days=10), 30)
    assert short.shape == (400, 30)
    assert np.array_equal(long[:, 410:440], short)
    assert long.dtype.kind == "i" and (long >= 0).all()


def test_history_covers_about_three_years_up_to_yesterday(medium: GeneratedCustomer) -> None:
    dates = [s.ship_date for s in medium.shipments]
    assert max(dates) < TODAY
    assert (TODAY - min(dates)).days > 2.8 * 365
    assert all(o.ordered_on < TODAY for o in medium.orders)


def test_every_pattern_is_present(medium: GeneratedCustomer) -> None:
    assert set(medium.patterns.values()) == {
        "smooth",
        "trending",
        "seasonal",
        "intermittent",
        "lumpy",
        "new",
        "discontinued",
    }
    small = generate_customer(demo_spec(DEMO_SMALL), seed=1, today=TODAY)
    assert len(set(small.patterns.values())) == 7


def test_intermittent_items_have_many_zero_weeks(medium: GeneratedCustomer) -> None:
    weeks = weekly(medium.demand(TODAY - timedelta(days=3 * 364), 3 * 364))
    zero_share = (weeks == 0).mean(axis=1)
    assert np.median(zero_share[rows_of(medium, "intermittent")]) > 0.3
    assert np.median(zero_share[rows_of(medium, "smooth")]) < 0.1


def test_lumpy_items_vary_more_in_size_than_intermittent_ones(medium: GeneratedCustomer) -> None:
    daily = medium.demand(TODAY - timedelta(days=3 * 364), 3 * 364)

    def size_cv2(mask: np.ndarray) -> float:
        values = []
        for row in daily[mask]:
            sizes = row[row > 0]
            if len(sizes) > 5:
                values.append(sizes.var() / sizes.mean() ** 2)
        return float(np.median(values))

    assert size_cv2(rows_of(medium, "lumpy")) > 2 * size_cv2(rows_of(medium, "intermittent"))


def test_seasonal_items_follow_a_yearly_cycle(medium: GeneratedCustomer) -> None:
    weeks = weekly(medium.demand(TODAY - timedelta(days=3 * 364), 3 * 364)).astype(float)
    spectrum = np.abs(np.fft.rfft(weeks - weeks.mean(axis=1, keepdims=True), axis=1))
    yearly = spectrum[:, 3]  # 3 cycles in 156 weeks
    strength = yearly / (weeks.mean(axis=1) * weeks.shape[1] + 1e-9)
    assert np.median(strength[rows_of(medium, "seasonal")]) > 0.15
    assert np.median(strength[rows_of(medium, "smooth")]) < 0.05


def test_trending_items_change_level_over_the_years(medium: GeneratedCustomer) -> None:
    daily = medium.demand(TODAY - timedelta(days=3 * 364), 3 * 364).astype(float)
    trending = rows_of(medium, "trending")
    first, last = daily[:, :364].mean(axis=1), daily[:, -364:].mean(axis=1)
    ratio = (last[trending] + 0.01) / (first[trending] + 0.01)
    assert np.median(np.abs(np.log(ratio))) > 0.25


def test_new_and_discontinued_items(medium: GeneratedCustomer) -> None:
    first_ship: dict[str, date] = {}
    for s in medium.shipments:
        first_ship.setdefault(s.product_code, s.ship_date)
    products = {p.code: p for p in medium.products}
    recent = medium.demand(TODAY - timedelta(days=30), 30)
    long_ago = medium.demand(TODAY - timedelta(days=3 * 364), 2 * 364)
    for i, product in enumerate(medium.products):
        pattern = medium.patterns[product.code]
        if pattern == "new":
            assert long_ago[i].sum() == 0  # launched within the last 200 days
            if product.code in first_ship:  # stocked shortly before launch
                assert (TODAY - first_ship[product.code]).days < 365
        if pattern == "discontinued":
            assert product.status is ProductStatus.DISCONTINUED
            assert recent[i].sum() == 0
    assert any(p.status is ProductStatus.ACTIVE for p in products.values())


def test_magnitudes_are_realistic() -> None:
    large = generate_customer(demo_spec(DEMO_LARGE), seed=42, today=TODAY)
    monthly = large.demand(TODAY, 364).sum() / 12
    capacity = large.profile.container_capacity_cartons
    assert 1 <= monthly / capacity <= 4
    small = generate_customer(demo_spec(DEMO_SMALL), seed=42, today=TODAY)
    small_monthly = small.demand(TODAY, 364).sum() / 12
    assert 0.3 <= small_monthly / small.profile.container_capacity_cartons <= 2
    for product in large.products:
        assert product.pack_size in {1, 6, 12, 24, 50}
        assert product.moq % product.pack_size == 0
        assert product.carton_weight_kg is not None and 0.05 <= product.carton_weight_kg <= 2.5
        assert product.carton_volume_m3 is not None and 0 < product.carton_volume_m3 < 0.01
        assert product.stock_on_hand is not None and product.stock_on_hand >= 0


def test_orders_shipments_and_pipeline_agree(medium: GeneratedCustomer) -> None:
    shipped: dict[str, int] = defaultdict(int)
    for s in medium.shipments:
        shipped[s.product_code] += s.quantity
    ordered: dict[str, int] = defaultdict(int)
    for order in medium.orders:
        if order.status in (OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED):
            for line in order.lines:
                ordered[line.product_code] += line.quantity
        if order.status is OrderStatus.DELIVERED:
            assert order.delivered_on is not None and order.delivered_on < TODAY
        if order.in_pipeline:
            assert order.eta is not None and order.eta >= TODAY - timedelta(days=7)
    assert shipped == ordered
    statuses = {o.status for o in medium.orders}
    assert {OrderStatus.DELIVERED, OrderStatus.IN_TRANSIT} <= statuses
    for order in medium.orders:
        for line in order.lines:
            product = next(p for p in medium.products if p.code == line.product_code)
            assert line.quantity % product.pack_size == 0
            assert line.quantity >= product.moq


def test_history_orders_are_sized_from_past_demand_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # The customer's reorder rule may know the demand it has seen, never the expected demand
    # of days to come (sizing orders by the future flattered every policy in the backtest).
    asked: list[int] = []
    mean = DemandProcess.mean

    def spy(self: DemandProcess, days: np.ndarray) -> np.ndarray:
        asked.extend(np.asarray(days).tolist())
        return mean(self, days)

    monkeypatch.setattr(DemandProcess, "mean", spy)
    spec = demo_spec(DEMO_SMALL)
    generated = generate_customer(spec, seed=3, today=TODAY)
    first_day = day_index(TODAY - timedelta(days=spec.history_days))
    assert asked and max(asked) <= first_day
    assert len(generated.orders) > 20


def test_lateness_slips_history_and_live_orders_deterministically() -> None:
    late = replace(demo_spec(DEMO_SMALL), late_share=0.5, late_days=6.0)
    customer = generate_customer(late, seed=7, today=TODAY)
    slips = [
        (o.delivered_on - o.eta).days
        for o in customer.orders
        if o.status is OrderStatus.DELIVERED and o.delivered_on and o.eta
    ]
    assert len(slips) > 30
    beyond_jitter = [s for s in slips if s > 4]  # the usual jitter is at most 4 days
    assert 0.25 < len(beyond_jitter) / len(slips) < 0.75
    plain = generate_customer(demo_spec(DEMO_SMALL), seed=7, today=TODAY)
    plain_slips = {
        (o.delivered_on - o.eta).days
        for o in plain.orders
        if o.status is OrderStatus.DELIVERED and o.delivered_on and o.eta
    }
    assert plain_slips <= {0, 1, 2, 4}

    def live_slips(spec: CustomerSpec) -> list[int]:
        world = SimWorld(today=TODAY, seed=7)
        world.add_spec(spec, seed=7)
        state = world.customer(spec.code)
        product = next(p for p in state.products if p.status is ProductStatus.ACTIVE)
        quantity = max(product.pack_size, product.moq)
        out = []
        for k in range(40):
            record, _ = world.submit(
                spec.code,
                idempotency_key=f"k{k}",
                lines=[SubmittedLine(product.code, quantity)],
                reference=None,
            )
            assert record.eta == TODAY + timedelta(weeks=spec.lead_time_weeks)
            out.append((record.deliver_on - record.eta).days)
        return out

    assert live_slips(demo_spec(DEMO_SMALL)) == [0] * 40
    slipped = live_slips(late)
    assert slipped == live_slips(late)  # deterministic from the seed
    assert 8 < sum(1 for s in slipped if s > 0) < 32 and min(slipped) == 0


def test_lateness_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="late_share"):
        replace(demo_spec(DEMO_SMALL), late_share=1.5)
    with pytest.raises(ValueError, match="late_days"):
        replace(demo_spec(DEMO_SMALL), late_share=0.2, late_days=0.0)
