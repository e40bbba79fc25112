"""The simulator's price lists: per customer, from a random stream of their own (so the rest
of the generated data is what it was before prices existed). Each product has last year's
price (ended 90 days ago), today's, and for about a third of them a quantity break at 100
packs, 3% lower."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from planning.models import PriceRow, Product

PRICE_STREAM = 0x50524943
CENT = Decimal("0.01")


def price_list(
    code: str, seed: int, products: Sequence[Product], today: date, currency: str
) -> list[PriceRow]:
    rng = np.random.default_rng(
        np.random.SeedSequence([seed, zlib.crc32(code.encode()), PRICE_STREAM])
    )
    cents = rng.integers(150, 6_000, size=len(products)).tolist()
    breaks = (rng.random(len(products)) < 1 / 3).tolist()
    current = today - timedelta(days=90)
    rows: list[PriceRow] = []
    for product, price_cents, has_break in zip(products, cents, breaks, strict=True):
        price = Decimal(price_cents) * CENT
        rows.append(
            PriceRow(
                product_code=product.code,
                currency=currency,
                unit_price=(price * Decimal("1.04")).quantize(CENT),
                valid_from=today - timedelta(days=365),
                valid_to=current - timedelta(days=1),
            )
        )
        rows.append(
            PriceRow(
                product_code=product.code, currency=currency, unit_price=price, valid_from=current
            )
        )
        if has_break:
            rows.append(
                PriceRow(
                    product_code=product.code,
                    currency=currency,
                    unit_price=(price * Decimal("0.97")).quantize(CENT),
                    valid_from=current,
                    min_quantity=100 * product.pack_size,
                )
            )
    return rows
