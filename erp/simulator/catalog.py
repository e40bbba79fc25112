"""Word lists that give generated products and contacts believable names."""

from __future__ import annotations

import numpy as np

CATEGORIES: tuple[str, ...] = (
    "Coffee Beans",
    "Ground Coffee",
    "Black Tea",
    "Green Tea",
    "Olive Oil",
    "Sunflower Oil",
    "Basmati Rice",
    "Penne Pasta",
    "Spaghetti",
    "Tomato Passata",
    "Chickpeas",
    "Kidney Beans",
    "Sea Salt",
    "Cane Sugar",
    "Wheat Flour",
    "Oat Flakes",
    "Paper Towels",
    "Napkins",
    "Dish Soap",
    "Hand Soap",
    "Trash Bags",
    "Nitrile Gloves",
    "Takeaway Cups",
    "Cup Lids",
    "Paper Straws",
    "Food Boxes",
    "Aluminium Foil",
    "Cling Film",
    "Baking Paper",
    "Sparkling Water",
    "Orange Juice",
    "Apple Juice",
    "Coconut Milk",
    "Soy Sauce",
    "Ketchup",
    "Mayonnaise",
    "Mustard",
    "Vinegar",
    "Honey",
    "Peanut Butter",
)
QUALIFIERS: tuple[str, ...] = (
    "Classic",
    "Organic",
    "Premium",
    "Value",
    "Eco",
    "Professional",
    "Select",
    "Fairtrade",
    "House",
    "Catering",
)
SIZES: tuple[str, ...] = (
    "250g",
    "500g",
    "1kg",
    "2kg",
    "5kg",
    "330ml",
    "500ml",
    "1L",
    "5L",
    "100pc",
    "250pc",
    "500pc",
)
FIRST_NAMES: tuple[str, ...] = (
    "Ana",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustav",
    "Hana",
    "Ivo",
    "Jonas",
    "Keiko",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
)
LAST_NAMES: tuple[str, ...] = (
    "Almeida",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
)


def product_names(rng: np.random.Generator, n: int) -> list[str]:
    cats = rng.integers(0, len(CATEGORIES), n)
    quals = rng.integers(0, len(QUALIFIERS), n)
    sizes = rng.integers(0, len(SIZES), n)
    return [
        f"{QUALIFIERS[q]} {CATEGORIES[c]} {SIZES[s]}"
        for c, q, s in zip(cats.tolist(), quals.tolist(), sizes.tolist(), strict=True)
    ]


def person_name(rng: np.random.Generator) -> tuple[str, str]:
    first = FIRST_NAMES[int(rng.integers(0, len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(0, len(LAST_NAMES)))]
    return first, last
