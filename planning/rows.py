"""The plan input's dated rows (shipments, consumption reports) as column arrays, whether
they came as one model per row or as rows filed per product (`PlanInput.shipments_by_product`,
`.consumption_by_product`): the sources read columns, so both forms plan alike.

Rows filed per product are read by C-level iteration; a caller that keeps its history so
(the store: some 200,000 rows for a 4,000-product customer) passes them as they are, instead
of building a model per row, which cost two to three times the plan's own computation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain, repeat
from operator import attrgetter, itemgetter

import numpy as np
import numpy.typing as npt

from planning.models import ConsumptionReport, ReportRow, Shipment, ShipmentRow

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DatedRows:
    """One entry per row: the product's position in the catalogue (-1: not in it), the
    day as `date.toordinal()`, the cartons."""

    row: IntArray
    day: IntArray
    quantity: FloatArray

    @property
    def size(self) -> int:
        return int(self.row.size)


def shipment_rows(
    codes: Sequence[str],
    shipments: Sequence[Shipment],
    by_product: Mapping[str, Sequence[ShipmentRow]] | None = None,
) -> DatedRows:
    return _dated_rows(codes, shipments, _SHIPPED, by_product or {})


def report_rows(
    codes: Sequence[str],
    reports: Sequence[ConsumptionReport],
    by_product: Mapping[str, Sequence[ReportRow]] | None = None,
) -> DatedRows:
    return _dated_rows(codes, reports, _REPORTED, by_product or {})


_SHIPPED = (attrgetter("product_code"), attrgetter("ship_date"), attrgetter("quantity"))
_REPORTED = (attrgetter("product_code"), attrgetter("week_start"), attrgetter("quantity"))
_DAY = itemgetter(0)
_QUANTITY = itemgetter(1)


def _dated_rows(
    codes: Sequence[str],
    models: Sequence[Shipment] | Sequence[ConsumptionReport],
    fields: tuple[attrgetter[str], attrgetter[date], attrgetter[int]],
    by_product: Mapping[str, Sequence[Sequence[int | None]]],
) -> DatedRows:
    index = {code: i for i, code in enumerate(codes)}
    code_of, day_of, quantity_of = fields
    filed = list(by_product.values())
    flat: Sequence[Sequence[int | None]] = list(chain.from_iterable(filed))
    m = len(models)
    row = np.concatenate(
        [
            np.fromiter(map(index.get, map(code_of, models), repeat(-1)), np.int64, m),
            np.repeat(
                np.fromiter((index.get(c, -1) for c in by_product), np.int64, len(filed)),
                np.fromiter(map(len, filed), np.int64, len(filed)),
            ),
        ]
    )
    day = np.concatenate(
        [
            np.fromiter(map(date.toordinal, map(day_of, models)), np.int64, m),
            np.fromiter(map(_DAY, flat), np.int64, len(flat)),
        ]
    )
    quantity = np.concatenate(
        [
            np.fromiter(map(quantity_of, models), np.float64, m),
            np.fromiter(map(_QUANTITY, flat), np.float64, len(flat)),
        ]
    )
    return DatedRows(row, day, quantity)
