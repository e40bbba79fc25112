"""`restock plan` through typer's CliRunner, on the example that docs/planning.md shows."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from planning import PlanInput, Recommendation

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
