"""`restock plan` through typer's CliRunner, on the example that docs/planning.md shows."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from planning import PlanInput, Recommendation
from tests.planning.factories import plan_input, product, weekly_shipments

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "plan-input.json"
runner = CliRunner()


def test_docs_example_is_valid_input_and_referenced_by_the_docs() -> None:
    inp = PlanInput.model_validate_json(EXAMPLE.read_text())
    assert len(inp.products) == 7
    docs = (EXAMPLE.parents[1] / "planning.md").read_text()
    assert "examples/plan-input.json" in docs


def test_plan_prints_recommendation_json() -> None:
    result = runner.invoke(app, ["plan", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    rec = Recommendation.model_validate_json(result.stdout)
    assert rec.as_of.isoformat() == "2026-01-05"
    codes = {ln.product_code for ln in rec.lines}
    assert "MINT-OLD" not in codes  # discontinued
    assert "SPICE-X" not in codes  # no history
    assert {"CHOC-250", "SAFFRON-1G"} <= codes  # both run out before arrival
    assert all(c.weight_kg is not None and c.weight_kg <= 26_000 for c in rec.containers)
    assert len(rec.products) == 7


def test_plan_table_format(tmp_path: Path) -> None:
    out = tmp_path / "plan.txt"
    result = runner.invoke(app, ["plan", str(EXAMPLE), "--format", "table", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "Containers" in text and "CHOC-250" in text and "Urgent: runs out on" in text


def test_plan_reports_invalid_input_by_field(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text())
    doc["settings"]["target_soh_weeks"] = -1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = runner.invoke(app, ["plan", str(bad)])
    assert result.exit_code == 2
    assert "invalid input: settings.target_soh_weeks:" in result.output


def test_plan_reports_a_missing_input_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert f"error: input file {tmp_path / 'nope.json'} does not exist" in result.output


def _write(tmp_path: Path, change: dict[str, object], product: dict[str, object]) -> Path:
    doc = json.loads(EXAMPLE.read_text())
    doc["settings"].update(change)
    doc["products"][0].update(product)
    path = tmp_path / "input.json"
    path.write_text(json.dumps(doc))
    return path


def test_plan_reports_a_product_no_container_takes(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text())
    code = doc["products"][0]["code"]
    path = _write(tmp_path, {}, {"carton_weight_kg": 30_000.0})
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert f"invalid input: settings: product {code}: one pack of" in result.output
    assert "does not fit in an empty container" in result.output
    assert "Traceback" not in result.output


def test_plan_reports_absurd_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, {}, {"stock_on_hand": 10**15})
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert "invalid input: products.0.stock_on_hand:" in result.output
    path = _write(tmp_path, {"lead_time_weeks": 1e9}, {})
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2 and "invalid input: settings.lead_time_weeks:" in result.output
    doc = json.loads(EXAMPLE.read_text())
    doc["as_of"] = "9999-12-30"
    path.write_text(json.dumps(doc))
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2 and "invalid input: as_of:" in result.output
    # Ten-carton containers for a million cartons: refused before packing.
    huge = plan_input(
        [product("A", stock_on_hand=0)],
        weekly_shipments("A", [100_000] * 20),
        container_capacity_cartons=10,
    )
    path.write_text(huge.model_dump_json())
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert "invalid input: products: the order would need at least" in result.output
