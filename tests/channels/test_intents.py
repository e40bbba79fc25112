"""The message reader over the phrasings in phrasings.tsv (what each means, as a person
would read it). Its accuracy is printed; a phrasing it does not read as meant must be a
question back (`ask`), never another action."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.intents import Intent, read

PHRASINGS = Path(__file__).with_name("phrasings.tsv")
MIN_ACCURACY = 0.9


def _rows() -> list[tuple[str, str]]:
    rows = []
    for line in PHRASINGS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip("\t"):
            continue
        text, _, meant = line.partition("\t")
        rows.append((text, meant))
    return rows


def test_there_are_enough_phrasings_of_every_kind() -> None:
    rows = _rows()
    assert len(rows) >= 150
    kinds = {meant.split(":")[0].split(" ")[0] for _, meant in rows}
    assert kinds >= {"approve", "reject", "status", "urgent", "add", "help", "stop", "ask"}


def test_misread_phrasings_ask_rather_than_act(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows()
    misread = []
    wrong_actions = []
    for text, meant in rows:
        reading = read(text)
        if reading.label() == meant:
            continue
        misread.append((text, meant, reading.label()))
        if reading.intent is not Intent.ASK:
            wrong_actions.append((text, meant, reading.label()))
    accuracy = 1 - len(misread) / len(rows)
    with capsys.disabled():
        print(
            f"\nmessage reader: {len(rows) - len(misread)}/{len(rows)} phrasings read as meant "
            f"({accuracy:.1%}); {len(misread)} asked back instead"
        )
        for text, meant, _ in misread:
            print(f"  asked back: {text!r} (meant {meant!r})")
    assert wrong_actions == []
    assert accuracy >= MIN_ACCURACY


def test_an_empty_message_asks_and_help_lists_the_replies() -> None:
    assert read("   ").intent is Intent.ASK
    assert read("gibberish xyz").question is not None
    assert "APPROVE URGENT" in (read("hmm").question or "")
