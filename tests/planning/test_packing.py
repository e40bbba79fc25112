"""Container packing on its own: counts, splits, urgency order, limits, buyer edits."""

from __future__ import annotations

import pytest

from planning import PlanSettings, repack, validate_quantities
from planning.errors import InvalidQuantity, UnpackableProduct
from planning.models import ProductStatus
from planning.packing import Box, Limits, PackItem, pack, top_up
from tests.planning.factories import product


def _contents(boxes: list) -> list[dict[str, int]]:
    return [dict(b.lines) for b in boxes]


def test_lower_bound_and_whole_lines_preferred() -> None:
    # Capacity 100; 60 + 50 + 40 + 30 + 20 = 200 -> exactly 2 containers.
    # A (60) goes in; B (50) does not fit the 40 left, but C (40) fits whole -> [A, C];
    # then B, D, E = 100 -> no product is split at all.
    items = [PackItem(c, q) for c, q in zip("ABCDE", [60, 50, 40, 30, 20], strict=True)]
    boxes, open_box = pack(items, Limits(cartons=100))
    assert _contents(boxes) == [{"A": 60, "C": 40}, {"B": 50, "D": 30, "E": 20}]
    assert open_box is None  # both full


def test_split_only_to_fill_a_container() -> None:
    # 70 + 70 = 140 in capacity 100: A whole, B split 30 / 40.
    boxes, open_box = pack([PackItem("A", 70), PackItem("B", 70)], Limits(cartons=100))
    assert _contents(boxes) == [{"A": 70, "B": 30}, {"B": 40}]
    assert open_box is boxes[-1]


def test_urgent_lines_first_and_urgent_containers_first() -> None:
    items = [PackItem("N1", 80), PackItem("U1", 90, urgent=True), PackItem("U2", 50, urgent=True)]
    boxes, _ = pack(items, Limits(cartons=100))
    # Urgent 140 -> [U1 90 + U2 10], [U2 40 + N1 60]; N1's last 20 in the third.
    assert _contents(boxes) == [{"U1": 90, "U2": 10}, {"U2": 40, "N1": 60}, {"N1": 20}]
    assert [b.urgent for b in boxes] == [True, True, False]


def test_big_product_fills_whole_containers() -> None:
    boxes, _ = pack([PackItem("S", 30), PackItem("BIG", 250)], Limits(cartons=100))
    # BIG: two whole containers, its last 50 shares with S.
    assert _contents(boxes) == [{"BIG": 100}, {"BIG": 100}, {"S": 30, "BIG": 50}]


def test_weight_limit_binds() -> None:
    # 1,000 cartons capacity but 5,000 kg: 400 cartons of 10 kg -> 4,000 kg fits one container;
    # another 200 (2,000 kg) forces a second.
    items = [PackItem("H", 600, carton_weight_kg=10.0)]
    boxes, _ = pack(items, Limits(cartons=1000, weight_kg=5000))
    assert [b.cartons for b in boxes] == [500, 100]
    assert boxes[0].weight_kg == pytest.approx(5000)


def test_carton_too_heavy_for_any_container() -> None:
    with pytest.raises(UnpackableProduct) as exc:
        pack([PackItem("LEAD", 1, carton_weight_kg=30_000)], Limits(cartons=10, weight_kg=20_000))
    assert "LEAD" in str(exc.value)


def test_repack_after_edit_reports_fill_and_limits() -> None:
    settings = PlanSettings(container_capacity_cartons=100, container_max_volume_m3=10.0)
    containers = repack(
        [PackItem("A", 120, urgent=True, carton_volume_m3=0.05), PackItem("B", 30)], settings
    )
    # A: volume allows 200 cartons, cartons allow 100 -> [A 100], [A 20 + B 30].
    assert [c.cartons for c in containers] == [100, 50]
    assert containers[0].fill_pct == 100.0 and containers[0].volume_fill_pct == 50.0
    assert containers[1].urgent and containers[1].volume_m3 == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        (
            105,
            "product A: quantity 105 is not a multiple of the pack size 10 (nearest: 100 or 110)",
        ),
        (40, "product A: quantity 40 is below the minimum order 50"),
        (-10, "product A: quantity -10 is negative"),
    ],
)
def test_validate_quantities_names_product_and_problem(qty: int, message: str) -> None:
    with pytest.raises(InvalidQuantity) as exc:
        validate_quantities({"A": qty}, [product("A", pack_size=10, moq=45)])
    assert str(exc.value) == message
    assert exc.value.field == "lines.A.quantity"
    assert exc.value.status_code == 422


def test_validate_quantities_accepts_removal_and_valid_edits() -> None:
    products = [product("A", pack_size=10, moq=45), product("B", pack_size=6)]
    validate_quantities({"A": 0, "B": 12}, products)
    validate_quantities({"A": 50}, products)


def test_validate_quantities_rejects_unknown_and_discontinued() -> None:
    products = [product("OLD", status=ProductStatus.DISCONTINUED)]
    with pytest.raises(InvalidQuantity, match="product X: unknown product"):
        validate_quantities({"X": 5}, products)
    with pytest.raises(InvalidQuantity, match="product OLD: product is discontinued"):
        validate_quantities({"OLD": 5}, products)


def test_a_product_split_across_containers_splits_at_pack_boundaries() -> None:
    # capacity 100, pack 24: a container takes at most 4 packs (96); 300 = 12.5 packs is not
    # orderable, so take 288 (12 packs) -> 96 + 96 + 96; the small item fills the gaps.
    items = [PackItem("BIG", 288, pack_size=24), PackItem("SMALL", 12, pack_size=6)]
    boxes, _ = pack(items, Limits(cartons=100))
    for box in boxes:
        assert box.lines.get("BIG", 0) % 24 == 0
        assert box.lines.get("SMALL", 0) % 6 == 0
        assert box.cartons <= 100
    assert sum(b.lines.get("BIG", 0) for b in boxes) == 288
    assert sum(b.lines.get("SMALL", 0) for b in boxes) == 12


def test_a_pack_larger_than_the_container_cannot_be_packed() -> None:
    with pytest.raises(UnpackableProduct, match="one pack exceeds"):
        pack([PackItem("HUGE", 120, pack_size=120)], Limits(cartons=100))


def test_every_share_of_a_split_product_meets_the_moq() -> None:
    # capacity 100, pack 24, MOQ 48: whole containers take 96; 312 = 96+96+96+24 would leave
    # an unorderable 24, so the split keeps every share >= 48.
    item = PackItem("BIG", 312, pack_size=24, min_quantity=48)
    boxes, _ = pack([item], Limits(cartons=100))
    shares = sorted(b.lines["BIG"] for b in boxes)
    assert sum(shares) == 312
    assert all(share % 24 == 0 and share >= 48 for share in shares), shares
    assert all(b.cartons <= 100 for b in boxes)


def test_a_partial_share_next_to_other_products_meets_the_moq() -> None:
    items = [
        PackItem("A", 70),
        PackItem("B", 96, pack_size=24, min_quantity=48),
        PackItem("C", 30),
    ]
    boxes, _ = pack(items, Limits(cartons=100))
    for box in boxes:
        share = box.lines.get("B", 0)
        assert share == 0 or share >= 48, [b.lines for b in boxes]
    assert sum(b.lines.get("B", 0) for b in boxes) == 96


def test_top_up_gives_a_product_new_to_the_container_its_moq() -> None:
    # The product is ordered in another container already (minimum 0 passed in), but its
    # share in this container is a separate ERP order line: below the MOQ it is not added.
    box = Box(Limits(cartons=100))
    box.add(PackItem("A", 95), 95)
    candidate = PackItem("B", 50, min_quantity=10)
    assert top_up(box, [(candidate, 1, 0)]) == {}
    roomy = Box(Limits(cartons=100))
    roomy.add(PackItem("A", 60), 60)
    assert top_up(roomy, [(candidate, 1, 0)]) == {"B": 40}


def test_top_up_adds_at_most_its_budget_in_whole_packs() -> None:
    box = Box(Limits(cartons=100))
    box.add(PackItem("A", 20), 20)
    first, second = PackItem("B", 30, pack_size=6), PackItem("C", 40, pack_size=4)
    assert top_up(box, [(first, 6, 0), (second, 4, 0)], budget=45) == {"B": 30, "C": 12}
    assert box.cartons == 62
    assert top_up(Box(Limits(cartons=100)), [(first, 6, 0)], budget=0) == {}


def test_an_order_that_cannot_be_split_into_orderable_shares_is_refused() -> None:
    # 201 cartons with MOQ 84 into 100-carton containers: two shares hold at most 200,
    # three need at least 252, so no packing of this quantity is orderable. The packer
    # refuses it by name (the engine never asks: it orders 200 or 252, see test_engine).
    with pytest.raises(InvalidQuantity) as exc:
        pack([PackItem("P0", 201, min_quantity=84), PackItem("P3", 2)], Limits(100))
    assert str(exc.value) == (
        "product P0: quantity 201 cannot be split into containers of at most 100 with every "
        "share at least the minimum order 84 (orderable: 200 or 252)"
    )
    boxes, _ = pack([PackItem("P0", 252, min_quantity=84), PackItem("P3", 2)], Limits(100))
    assert len(boxes) == 3
    assert all(b.lines.get("P0", 84) >= 84 for b in boxes), [b.lines for b in boxes]


def test_a_share_never_leaves_an_unsplittable_rest() -> None:
    # 250 cartons, MOQ 80, containers of 100. A first share of 100 would leave 150, which
    # needs two shares of at least 80 (160): the first takes 90, and the 160 left split.
    boxes, _ = pack([PackItem("A", 250, min_quantity=80)], Limits(100))
    shares = sorted(b.lines["A"] for b in boxes)
    assert sum(shares) == 250 and len(boxes) == 3
    assert all(80 <= q <= 100 for q in shares), shares


def test_a_products_pack_gap_is_filled_with_other_products() -> None:
    # 89,999 cartons in packs of 7 fill a container but one carton (12,857 packs); the
    # 1-carton product goes in that gap: one container, full, nothing left to top up.
    items = [PackItem("SEVENS", 89_999, pack_size=7), PackItem("ONE", 1)]
    boxes, open_box = pack(items, Limits(cartons=90_000))
    assert _contents(boxes) == [{"SEVENS": 89_999, "ONE": 1}]
    assert open_box is None


def test_gaps_of_several_big_products_take_small_packs() -> None:
    # Two products of two containers' worth each in packs of 7 and 11 leave gaps of 1 and
    # 9 per container (99,995 / 99,990 of 100,000... scaled down: capacity 100): 98 = 14 x 7
    # and 99 = 9 x 11, so gaps of 2 and 1 per container; 6 cartons of a pack-1 product fill
    # them: 4 containers for 400 cartons.
    items = [
        PackItem("A", 196, pack_size=7),
        PackItem("B", 198, pack_size=11),
        PackItem("C", 6),
    ]
    boxes, open_box = pack(items, Limits(cartons=100))
    assert len(boxes) == 4 and all(b.cartons == 100 for b in boxes), _contents(boxes)
    assert open_box is None


def test_the_exact_packer_finds_the_minimum_the_greedy_misses() -> None:
    # Capacity 100, packs of 7 (98 cartons) and of 6 (102 cartons): 200 in total. Greedy:
    # 98 of A (14 packs) leaves 2 cartons no pack of 6 fits: 3 containers. Exact: 70 of A
    # + 30 of B = 100 and 28 of A + 72 of B = 100: two.
    items = [PackItem("A", 98, pack_size=7), PackItem("B", 102, pack_size=6)]
    boxes, open_box = pack(items, Limits(cartons=100))
    assert [b.cartons for b in boxes] == [100, 100]
    assert open_box is None
    totals = {"A": 0, "B": 0}
    for b in boxes:
        for code, q in b.lines.items():
            totals[code] += q
            assert q % (7 if code == "A" else 6) == 0
    assert totals == {"A": 98, "B": 102}


def test_validate_quantities_with_settings_checks_containers() -> None:
    settings = PlanSettings(container_capacity_cartons=100, max_cover_weeks=26)
    products = [
        product("A", moq=84),
        product("HEAVY", carton_weight_kg=50.0),
        product("B", pack_size=7),
    ]
    validate_quantities({"A": 252, "B": 700}, products, settings)
    with pytest.raises(InvalidQuantity, match="orderable: 200 or 252"):
        validate_quantities({"A": 201}, products, settings)
    heavy = PlanSettings(container_capacity_cartons=100, container_max_weight_kg=40.0)
    with pytest.raises(InvalidQuantity, match="product HEAVY: one pack does not fit"):
        validate_quantities({"HEAVY": 1}, products, heavy)
    moq = [product("BIG", moq=150)]
    with pytest.raises(InvalidQuantity, match="minimum order 150 is more than one container"):
        validate_quantities({"BIG": 150}, moq, settings)
    validate_quantities({"BIG": 150}, moq)  # without settings, containers are not checked
