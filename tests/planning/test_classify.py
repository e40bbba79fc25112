"""ADI / CV^2 classification with the Syntetos-Boylan cut-offs."""

from __future__ import annotations

import numpy as np
import pytest

from planning.classify import (
    ERRATIC,
    INTERMITTENT,
    LUMPY,
    NONE,
    SHORT,
    SMOOTH,
    classify,
    classify_values,
)
from planning.history import History


@pytest.mark.parametrize(
    ("adi", "cv2", "expected"),
    [
        (1.0, 0.0, SMOOTH),
        (1.3199, 0.4899, SMOOTH),
        (1.32, 0.4899, INTERMITTENT),  # exactly on the ADI cut-off counts as sparse
        (1.3199, 0.49, ERRATIC),  # exactly on the CV^2 cut-off counts as variable
        (1.32, 0.49, LUMPY),
        (5.0, 2.0, LUMPY),
    ],
)
def test_cutoffs(adi: float, cv2: float, expected: int) -> None:
    assert classify_values(np.array([adi]), np.array([cv2]))[0] == expected


def test_adi_and_cv2_hand_checked() -> None:
    # Row 0: 12 weeks, demand in 4 of them (10, 30, 10, 30): ADI 12/4 = 3.0;
    #   sizes mean 20, population variance 100 -> CV^2 = 100/400 = 0.25 -> intermittent.
    # Row 1: 12 weeks of 100 -> ADI 1, CV^2 0 -> smooth.
    # Row 2: weeks of 10 and 100 alternating: mean 55, var 2025 -> CV^2 0.669 -> erratic.
    # Row 3: nothing -> no history. Row 4: first demand 3 weeks ago -> short history.
    weekly = np.zeros((5, 12))
    weekly[0, [0, 3, 6, 9]] = [10, 30, 10, 30]
    weekly[1] = 100
    weekly[2] = [10, 100] * 6
    weekly[4, -3:] = 50
    c = classify(History.from_weekly(weekly), min_history_weeks=8)
    assert c.adi[0] == pytest.approx(3.0) and c.cv2[0] == pytest.approx(0.25)
    assert c.adi[1] == pytest.approx(1.0) and c.cv2[1] == pytest.approx(0.0)
    assert c.cv2[2] == pytest.approx(2025 / 55**2)
    assert c.pattern.tolist() == [INTERMITTENT, SMOOTH, ERRATIC, NONE, SHORT]


def test_leading_zeros_before_first_shipment_do_not_count() -> None:
    # A product launched 10 weeks ago with steady demand is smooth, not intermittent.
    weekly = np.zeros((1, 30))
    weekly[0, -10:] = 40
    c = classify(History.from_weekly(weekly), min_history_weeks=8)
    assert c.pattern[0] == SMOOTH and c.adi[0] == pytest.approx(1.0)
