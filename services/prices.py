"""Each product's rows of the ERP's price list as the store keeps them (compact lists on the
product, `SnapshotProduct.prices`), and back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from planning.models import PriceRow
from planning.pricing import PriceBook
from services.profiles import latest_profile
from store import snapshots

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


async def price_book(session: AsyncSession, customer_id: int, codes: Sequence[str]) -> PriceBook:
    """The prices the ERP's list gives these products (as of the latest sync), in the
    account's currency."""
    kept = await snapshots.price_lists(session, customer_id, codes)
    profile = await latest_profile(session, customer_id)
    currency = None if profile is None else profile.currency
    return PriceBook([r for code in codes for r in rows_of(code, kept.get(code))], currency)
