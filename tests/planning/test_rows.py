"""Shipments and consumption reports filed per product as rows (`PlanInput.shipments_by_product`,
`.consumption_by_product`, the store's form) plan exactly as the same facts as models do."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

import pytest
from pydantic import ValidationError

from planning import plan
from planning.models import ConsumptionReport, ReportRow, Shipment, ShipmentCorrection, ShipmentRow
from planning.schemas import PlanInput
from tests.planning.factories import (
    AS_OF,
    plan_input,
    product,
    weekly_consumption,
    weekly_shipments,
)
from tests.planning.golden import CASES, golden_input


def shipment_rows(shipments: list[Shipment]) -> dict[str, list[ShipmentRow]]:
    filed: dict[str, list[ShipmentRow]] = defaultdict(list)
    for s in shipments:
        filed[s.product_code].append((s.ship_date.toordinal(), s.quantity))
    return dict(filed)


def report_rows(reports: list[ConsumptionReport]) -> dict[str, list[ReportRow]]:
    filed: dict[str, list[ReportRow]] = defaultdict(list)
    for r in reports:
        filed[r.product_code].append((r.week_start.toordinal(), r.quantity, r.stock_on_hand))
    return dict(filed)


def as_json(inp: PlanInput) -> str:
    return json.dumps(plan(inp).model_dump(mode="json"), sort_keys=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_inputs_plan_alike_from_rows_and_from_half_of_each(name: str) -> None:
    n, seed, settings = CASES[name]
    inp = golden_input(n, seed, settings)
    want = as_json(inp)
    rows = inp.model_copy(
        update={"shipments": [], "shipments_by_product": shipment_rows(inp.shipments)}
    )
    assert as_json(rows) == want
    # The unknown product's shipment is still counted, whichever form it came in.
    assert any("not in the catalogue" in w for w in plan(rows).warnings)
    half = len(inp.shipments) // 2
    mixed = inp.model_copy(
        update={
            "shipments": inp.shipments[:half],
            "shipments_by_product": shipment_rows(inp.shipments[half:]),
        }
    )
    assert as_json(mixed) == want


def test_consumption_reports_and_corrections_plan_alike_from_rows() -> None:
    # Reports a few days off the week grid (split over two columns), a product with none,
    # and a correction of our own order's excess on the shipment history.
    shipments = weekly_shipments("A", [0, 0, 500, 0, 0, 0] * 4) + weekly_shipments("B", [90] * 24)
    reports = weekly_consumption("A", [60, 70, 80, 65] * 5, shift_days=3)
    fix = ShipmentCorrection(
        product_code="B",
        ordered_on=AS_OF - timedelta(weeks=5),
        excess_cartons=120,
        weekly_forecast=90.0,
    )
    inp = plan_input([product("A"), product("B")], shipments).model_copy(
        update={"consumption": reports, "shipment_corrections": [fix]}
    )
    want = as_json(inp)
    rows = inp.model_copy(
        update={
            "shipments": [],
            "consumption": [],
            "shipments_by_product": shipment_rows(shipments),
            "consumption_by_product": report_rows(reports),
        }
    )
    assert as_json(rows) == want
    # Through JSON, as `restock plan` reads an input: validated back into the same plan.
    assert as_json(PlanInput.model_validate_json(rows.model_dump_json())) == want
    # The reports count: without them A plans from its lumpy shipments instead.
    without = rows.model_copy(update={"consumption_by_product": {}})
    assert as_json(without) != want


@pytest.mark.parametrize(
    ("field", "row", "position"),
    [
        ("shipments_by_product", [AS_OF.toordinal(), -1], 1),
        ("shipments_by_product", [0, 5], 0),
        ("consumption_by_product", [AS_OF.toordinal(), 10**10, None], 1),
        ("consumption_by_product", [AS_OF.toordinal(), 4], 2),
    ],
)
def test_a_bad_row_is_refused_naming_where_it_is(field: str, row: list[int], position: int) -> None:
    raw = {"as_of": AS_OF.isoformat(), "products": [product("A").model_dump()], field: {"A": [row]}}
    with pytest.raises(ValidationError) as caught:
        PlanInput.model_validate(raw)
    assert caught.value.errors()[0]["loc"][:4] == (field, "A", 0, position)
