"""A recommendation valued at the ERP's prices: each container line rounded to the currency
as an invoice line is, containers and products summed from those, golden figures worked out
by hand (Decimal, exact)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.money import money, rounded, show
from planning.models import PriceRow
from planning.pricing import priced
from planning.schemas import Container, ContainerLine, Line, Recommendation, Totals
from planning.settings import PlanSettings

AS_OF = date(2026, 12, 1)


def _price(code: str, price: str, currency: str = "EUR", breaks_at: int = 0) -> PriceRow:
    return PriceRow(product_code=code, currency=currency, unit_price=Decimal(price),
                    valid_from=date(2026, 9, 1), min_quantity=breaks_at)  # fmt: skip


def _line(code: str, quantity: int, containers: list[int]) -> Line:
    return Line(product_code=code, name=code, quantity=quantity, packs=quantity, pack_size=1,
                moq=0, urgent=False, containers=containers)  # fmt: skip


def _container(index: int, lines: dict[str, int]) -> Container:
    cartons = sum(lines.values())
    return Container(
        index=index,
        lines=[ContainerLine(product_code=c, quantity=q) for c, q in lines.items()],
        cartons=cartons,
        fill_pct=100.0,
        cartons_fill_pct=100.0,
        urgent=False,
    )


def _recommendation() -> Recommendation:
    containers = [_container(1, {"A": 333, "B": 1_000}), _container(2, {"A": 700, "C": 10})]
    lines = [_line("A", 1_033, [1, 2]), _line("B", 1_000, [1]), _line("C", 10, [2])]
    totals = Totals(
        products=3,
        active_products=3,
        ordered_products=3,
        urgent_products=0,
        at_risk_products=0,
        cartons=2_043,
        containers=2,
        urgent_containers=0,
        average_fill_pct=100.0,
        pulled_forward_cartons=0,
        dropped_cartons=0,
    )
    return Recommendation(as_of=AS_OF, summary="", containers=containers, lines=lines,
                          products=[], totals=totals, settings=PlanSettings())  # fmt: skip


def test_values_are_exact_and_rounded_per_line() -> None:
    prices = [
        _price("A", "1.005"),  # 333 x 1.005 = 334.665 -> 334.67 (half up)
        _price("A", "0.985", breaks_at=500),  # 700 x 0.985 = 689.50 (the break)
        _price("B", "0.10"),  # 100.00
        _price("C", "9.999", currency="USD"),  # another currency: not used, C unpriced
    ]
    rec = priced(_recommendation(), prices, "EUR")
    first, second = rec.containers
    assert [(cl.unit_price, cl.value) for cl in first.lines] == [
        (Decimal("1.005"), Decimal("334.67")),
        (Decimal("0.10"), Decimal("100.00")),
    ]
    assert first.value == Decimal("434.67") and first.unpriced_lines == 0
    assert second.lines[0].value == Decimal("689.50") and second.lines[1].value is None
    assert second.value == Decimal("689.50") and second.unpriced_lines == 1
    assert [line.value for line in rec.lines] == [Decimal("1024.17"), Decimal("100.00"), None]
    assert rec.totals.value == Decimal("1124.17")
    assert (rec.totals.currency, rec.totals.unpriced_lines) == ("EUR", 1)


def test_a_currency_without_minor_units_and_no_prices_at_all() -> None:
    yen = priced(_recommendation(), [_price(c, "12.5", "JPY") for c in "ABC"], None)
    assert yen.totals.currency == "JPY"
    # 333 x 12.5 = 4,162.5 -> 4,163; 1,000 x 12.5; 700 x 12.5 = 8,750; 10 x 12.5 = 125
    assert [c.value for c in yen.containers] == [Decimal("16663"), Decimal("8875")]
    assert yen.totals.value == Decimal("25538")
    plain = priced(_recommendation(), [], "EUR")
    assert plain == _recommendation() and plain.totals.value is None


def test_money_helpers() -> None:
    assert rounded(Decimal("2.675"), "EUR") == Decimal("2.68")  # half up, not banker's
    assert rounded(Decimal("-2.675"), "EUR") == Decimal("-2.68")
    assert money("0.0005", "KWD") == Decimal("0.001")  # three minor units
    assert show(Decimal("1234567.5"), "EUR") == "€1,234,567.50"
    assert show(Decimal("1234"), "JPY") == "¥1,234"
