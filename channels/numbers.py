"""Numbers as people type them in a message: digits (1200, 1,200, 1 200) or words
("twenty four", "a hundred", "two thousand five hundred")."""

from __future__ import annotations

import re

UNITS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1,
}  # fmt: skip
SCALES = {"hundred": 100, "thousand": 1_000, "k": 1_000}
GROUPED = re.compile(r"\b\d{1,3}(?:[, ]\d{3})+\b")


def digits_for_words(text: str) -> str:
    """`text` with each run of number words replaced by its digits, and grouped digits
    (1,200 or 1 200) joined. "a" and "an" count only before a scale ("a hundred")."""
    text = GROUPED.sub(lambda m: re.sub(r"[, ]", "", m.group()), text)
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        value, used = _number_at(words, i)
        if used:
            out.append(str(value))
            i += used
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def _number_at(words: list[str], start: int) -> tuple[int, int]:
    """(value, words used) of the number words from `start`; (0, 0) when none."""
    total = current = 0
    used = 0
    seen = False
    i = start
    while i < len(words):
        word = words[i].strip(",.")
        if word in ("a", "an") and not (i + 1 < len(words) and words[i + 1] in SCALES):
            break
        after_scale = i > start and words[i - 1].strip(",.") in SCALES
        if word == "and" and after_scale and i + 1 < len(words) and words[i + 1] in UNITS:
            i += 1
            continue
        if word in UNITS:
            current += UNITS[word]
        elif word in SCALES and seen:
            scale = SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
        elif word.isdigit() and not seen and i + 1 < len(words) and words[i + 1] in SCALES:
            current = int(word)
        else:
            break
        seen = True
        i += 1
        used = i - start
    return total + current, used
