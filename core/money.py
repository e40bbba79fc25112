"""Amounts of money: `Decimal` end to end, rounded the way each currency requires (its
ISO 4217 minor units, from Babel's CLDR data: 2 for EUR, 0 for JPY, 3 for KWD), and
written for people in one place."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision
from babel.numbers import is_currency as _known


def is_currency(code: str) -> bool:
    """An ISO 4217 currency code Babel knows."""
    return bool(_known(code))


def minor_units(currency: str) -> int:
    return int(get_currency_precision(currency))


def rounded(amount: Decimal, currency: str) -> Decimal:
    """`amount` to the currency's minor unit, half away from zero (as invoices round)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def money(amount: Decimal | str | int, currency: str) -> Decimal:
    """An amount read from text or a whole number, rounded for `currency`."""
    return rounded(Decimal(amount), currency)


def show(amount: Decimal, currency: str | None) -> str:
    """€1,234.50; an amount without a currency as a plain number."""
    if not currency:
        return f"{amount:,}"
    return str(format_currency(amount, currency, locale="en_US"))
