"""Dropping pull-forward from a line: the need, rounded up to the pack and the minimum."""

from __future__ import annotations

import pytest

from services.drafts import without_pull_forward


@pytest.mark.parametrize(
    ("quantity", "pulled", "pack", "moq", "expected"),
    [
        (22_000, 4_500, 50, 100, 17_500),  # a whole number of packs already
        (9_408, 2_040, 24, 0, 7_368),  # 7,368 = 307 packs of 24
        (9_400, 2_045, 24, 0, 7_368),  # need 7,355 rounds up to 7,368
        (306, 306, 6, 12, 0),  # only pull-forward: nothing
        (100, 95, 12, 24, 24),  # need 5: one pack would do, the minimum order is 24
    ],
)
def test_the_need_rounded_up_to_pack_and_minimum(
    quantity: int, pulled: int, pack: int, moq: int, expected: int
) -> None:
    assert without_pull_forward(quantity, pulled, pack, moq) == expected
