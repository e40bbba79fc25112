"""Which price applies: the customer's price list (`PriceRow`s) read for one order line.

A line of `quantity` cartons ordered on `day` takes the row of its product that is valid
that day (from `valid_from` to `valid_to`, both included) with the highest quantity break
it reaches (`min_quantity`); among rows of the same break, the one that started last.
Each container is one ERP order, so the break applies to a product's quantity in one
container, not to the whole recommendation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import rounded
from planning.models import PriceRow
from planning.schemas import Recommendation

PriceList = Mapping[str, Sequence[PriceRow]]


def by_product(rows: Iterable[PriceRow]) -> dict[str, list[PriceRow]]:
    grouped: dict[str, list[PriceRow]] = defaultdict(list)
    for row in rows:
        grouped[row.product_code].append(row)
    return dict(grouped)


def price_for(rows: Sequence[PriceRow], quantity: int, day: date) -> PriceRow | None:
    """The row that prices `quantity` cartons ordered on `day`; None when none is valid."""
    best: PriceRow | None = None
    for row in rows:
        if row.valid_from > day or (row.valid_to is not None and row.valid_to < day):
            continue
        if row.min_quantity > quantity:
            continue
        if best is None or (row.min_quantity, row.valid_from) > (
            best.min_quantity,
            best.valid_from,
        ):
            best = row
    return best


def line_value(
    prices: PriceList, code: str, quantity: int, day: date
) -> tuple[Decimal, PriceRow] | None:
    """quantity x the unit price that applies (unrounded), with the row; None: no price."""
    row = price_for(prices.get(code, ()), quantity, day)
    if row is None:
        return None
    return row.unit_price * quantity, row


@dataclass(frozen=True)
class PricedLine:
    product_code: str
    quantity: int
    unit_price: Decimal | None
    value: Decimal | None  # rounded to the currency, as an invoice line is


class PriceBook:
    """A customer's price list in one currency: the account's, else the list's first (rows
    in another are not used)."""

    def __init__(self, rows: Sequence[PriceRow], currency: str | None) -> None:
        self.currency = currency or (rows[0].currency if rows else None)
        self.table = by_product(r for r in rows if r.currency == self.currency)

    def __bool__(self) -> bool:
        return bool(self.table)

    def line(self, code: str, quantity: int, day: date) -> PricedLine:
        hit = line_value(self.table, code, quantity, day)
        if hit is None or self.currency is None:
            return PricedLine(code, quantity, None, None)
        return PricedLine(code, quantity, hit[1].unit_price, rounded(hit[0], self.currency))


def priced(rec: Recommendation, rows: Sequence[PriceRow], currency: str | None) -> Recommendation:
    """`rec` with the value of each container line, container, product line and the whole
    (`PriceBook.line` each, then sums); unchanged without prices."""
    book = PriceBook(rows, currency)
    if not rows:
        return rec
    per_product: dict[str, Decimal] = defaultdict(Decimal)
    unpriced: set[str] = set()
    containers = []
    for container in rec.containers:
        lines, total, missing = [], Decimal(0), 0
        for line in container.lines:
            hit = book.line(line.product_code, line.quantity, rec.as_of)
            if hit.value is None:
                missing += 1
                unpriced.add(line.product_code)
                lines.append(line)
                continue
            lines.append(line.model_copy(update={"unit_price": hit.unit_price, "value": hit.value}))
            total += hit.value
            per_product[line.product_code] += hit.value
        containers.append(
            container.model_copy(update={"lines": lines, "value": total, "unpriced_lines": missing})
        )
    products = [
        line.model_copy(
            update={
                "value": None if line.product_code in unpriced else per_product[line.product_code]
            }
        )
        for line in rec.lines
    ]
    totals = rec.totals.model_copy(
        update={
            "value": sum((c.value or Decimal(0) for c in containers), Decimal(0)),
            "currency": book.currency,
            "unpriced_lines": sum(c.unpriced_lines for c in containers),
        }
    )
    return rec.model_copy(update={"containers": containers, "lines": products, "totals": totals})
