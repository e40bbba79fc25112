"""Demand-pattern classification (Syntetos, Boylan & Croston 2005).

ADI is the average interval between weeks with demand, taken as
weeks of history / weeks with demand; CV^2 is the squared coefficient of variation of
the non-zero weekly quantities. The cut-offs 1.32 and 0.49 split the plane into
smooth, erratic, intermittent and lumpy; a value exactly on a cut-off counts as the
higher side (ADI >= 1.32 is intermittent-like, CV^2 >= 0.49 is variable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planning.history import FloatArray, History, IntArray
from planning.schemas import DemandPattern

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49

# Codes in the pattern array; `PATTERNS[code]` is the enum.
SMOOTH, ERRATIC, INTERMITTENT, LUMPY, SHORT, NONE = range(6)
PATTERNS: tuple[DemandPattern, ...] = (
    DemandPattern.SMOOTH,
    DemandPattern.ERRATIC,
    DemandPattern.INTERMITTENT,
    DemandPattern.LUMPY,
    DemandPattern.SHORT_HISTORY,
    DemandPattern.NO_HISTORY,
)


@dataclass(frozen=True)
class Classification:
    pattern: IntArray  # codes above
    adi: FloatArray  # inf where there is no demand
    cv2: FloatArray  # 0 where fewer than two demand weeks

    def is_intermittent(self) -> npt.NDArray[np.bool_]:
        return (self.pattern == INTERMITTENT) | (self.pattern == LUMPY)


def classify_values(adi: FloatArray, cv2: FloatArray) -> IntArray:
    """Map ADI / CV^2 pairs to SMOOTH / ERRATIC / INTERMITTENT / LUMPY codes."""
    sparse = adi >= ADI_CUTOFF
    variable = cv2 >= CV2_CUTOFF
    return np.asarray(sparse.astype(np.int64) * 2 + variable.astype(np.int64), dtype=np.int64)


def classify(history: History, min_history_weeks: int) -> Classification:
    """Classify every product over the weeks since its first shipment."""
    # Weeks before the first shipment are zero by definition, so whole-row sums are sums
    # over the history window and over the demand weeks alike.
    weekly = history.weekly
    count = np.count_nonzero(weekly > 0, axis=1)
    length = history.history_weeks
    total = weekly.sum(axis=1)
    squares = np.einsum("ij,ij->i", weekly, weekly)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(count > 0, length / np.maximum(count, 1), np.inf)
        mean = total / np.maximum(count, 1)
        var = np.maximum(squares / np.maximum(count, 1) - mean**2, 0.0)  # population variance
        cv2 = np.where((count > 1) & (mean > 0), var / np.maximum(mean, 1e-12) ** 2, 0.0)
    pattern = classify_values(adi, cv2)
    pattern = np.where(length < min_history_weeks, SHORT, pattern)
    pattern = np.where(count == 0, NONE, pattern)
    return Classification(
        pattern=np.asarray(pattern, dtype=np.int64),
        adi=np.asarray(adi, dtype=np.float64),
        cv2=np.asarray(cv2, dtype=np.float64),
    )
