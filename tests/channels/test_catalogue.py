"""Which product a message names: a code alone, a name despite typos, several close names
as numbered choices that the next message picks by number."""

from __future__ import annotations

import pytest

from channels.catalogue import Product, choices_in, choices_text, matches

CATALOGUE = [
    Product("P-00017", "Organic Coffee Beans 1 kg"),
    Product("P-00018", "Organic Coffee Beans 500 g"),
    Product("P-00031", "Cane Sugar 500g"),
    Product("P-00040", "Green Tea 100pc"),
    Product("P-00052", "Basmati Rice 5kg"),
]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("p-00040", ["P-00040"]),  # a code, any case
        ("sugar", ["P-00031"]),
        ("green tee", ["P-00040"]),  # a typo
        ("basmati rice 5 kg", ["P-00052"]),
        ("Organic Coffee Beans 500 g", ["P-00018"]),
        ("coffee beans", ["P-00017", "P-00018"]),  # two close names: ask which
        ("olive oil", []),
    ],
)
def test_a_message_names_one_product_several_or_none(text: str, codes: list[str]) -> None:
    assert [p.code for p in matches(text, CATALOGUE)] == codes


def test_the_choices_listed_are_read_back_by_number() -> None:
    asked = choices_text(1_200, CATALOGUE[:2])
    assert asked.splitlines()[1:3] == [
        "1. Organic Coffee Beans 1 kg (P-00017)",
        "2. Organic Coffee Beans 500 g (P-00018)",
    ]
    assert choices_in(asked) == (1_200, {1: "P-00017", 2: "P-00018"})
    assert choices_in("Added 24 cartons of Cane Sugar 500g (P-00031)") is None
    spaced = choices_text(24, [Product("OAT 1", "Oat Drink (1 l)"), Product("OAT 2", "Oat Drink")])
    assert choices_in(spaced) == (24, {1: "OAT 1", 2: "OAT 2"})
