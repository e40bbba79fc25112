"""Each product's rows of the ERP's price list as the store keeps them (compact lists on the
product, `SnapshotProduct.prices`), and back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from planning.models import PriceRow

StoredPrices = list[list[Any]]  # [[from ordinal, to ordinal | None, min qty, "price", "CUR"]]


def stored(rows: Iterable[PriceRow]) -> StoredPrices:
    return [
        [
            r.valid_from.toordinal(),
            None if r.valid_to is None else r.valid_to.toordinal(),
            r.min_quantity,
            str(r.unit_price),
            r.currency,
        ]
        for r in sorted(rows, key=lambda r: (r.valid_from, r.min_quantity))
    ]


def rows_of(code: str, kept: Sequence[Sequence[Any]] | None) -> list[PriceRow]:
    return [
        PriceRow(
            product_code=code,
            valid_from=date.fromordinal(int(start)),
            valid_to=None if end is None else date.fromordinal(int(end)),
            min_quantity=int(breaks_at),
            unit_price=Decimal(str(price)),
            currency=str(currency),
        )
        for start, end, breaks_at, price, currency in kept or []
    ]
