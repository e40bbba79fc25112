"""Which of the customer's products a message names: by code, or by name with typos.

A code (any case) names its product alone. Otherwise the names are scored with rapidfuzz's
`WRatio`; the best is taken alone when nothing else comes close, and several close ones are
offered as numbered choices, so an unclear name asks rather than adds the wrong product.
The choices travel in the reply's own text (`choices_text` / `choices_in`): the buyer's
next message, a bare number, picks one, with no state beyond the messages kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

NAME_CUTOFF = 70  # WRatio below this is not that product
CLEAR_LEAD = 8  # the best name is taken alone when the next is this many points behind
MAX_CHOICES = 5


@dataclass(frozen=True)
class Product:
    code: str
    name: str


def matches(text: str, products: Sequence[Product]) -> list[Product]:
    """The product `text` names (one), the close candidates (several), or none."""
    wanted = text.strip()
    by_code = {p.code.casefold(): p for p in products}
    if wanted.casefold() in by_code:
        return [by_code[wanted.casefold()]]
    scored = process.extract(
        wanted,
        [p.name for p in products],
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=NAME_CUTOFF,
        limit=MAX_CHOICES,
    )
    if not scored:
        return []
    best = scored[0][1]
    close = [products[index] for _, score, index in scored if best - score < CLEAR_LEAD]
    return close


_ASKED = re.compile(r"^Which product do you mean for (?P<qty>[\d,]+) cartons\?")
_CHOICE = re.compile(r"^(?P<n>\d+)\. .* \((?P<code>[^()]+)\)$")


def choices_text(quantity: int, candidates: Sequence[Product]) -> str:
    listed = "\n".join(f"{n}. {p.name} ({p.code})" for n, p in enumerate(candidates, start=1))
    return (
        f"Which product do you mean for {quantity:,} cartons?\n{listed}\n"
        f"Reply with its number, or ADD {quantity} and the product's code."
    )


def choices_in(reply: str) -> tuple[int, dict[int, str]] | None:
    """The quantity and the numbered codes of a `choices_text` reply; None for another."""
    asked = _ASKED.match(reply)
    if asked is None:
        return None
    codes = {
        int(m.group("n")): m.group("code")
        for line in reply.splitlines()[1:]
        if (m := _CHOICE.match(line))
    }
    return int(asked.group("qty").replace(",", "")), codes
