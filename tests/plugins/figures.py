"""`figure(orders=2, requests=[1, 1])`: a fault test's measured figures, printed now (`-s`), in
the terminal summary of every run, and written to test-artifacts/fault-figures.json.

A figure travels on its test's report (`user_properties`), so the summary holds every
figure when the tests run in several processes (pytest-xdist) as well as in one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

PROPERTY = "restock_figure"
FIGURES_FILE = Path(__file__).resolve().parents[2] / "test-artifacts" / "fault-figures.json"
_collected: list[dict[str, Any]] = []


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[..., dict[str, Any]]:
    def record(**values: Any) -> dict[str, Any]:
        row = {"test": request.node.nodeid.split("::", 1)[-1], **values}
        request.node.user_properties.append((PROPERTY, row))
        print(json.dumps(row, default=str))
        return row

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    _collected.extend(
        cast(dict[str, Any], value) for name, value in report.user_properties if name == PROPERTY
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _collected:
        return
    terminalreporter.section("fault figures")
    for row in _collected:
        terminalreporter.write_line(json.dumps(row, default=str))
    FIGURES_FILE.parent.mkdir(exist_ok=True)
    FIGURES_FILE.write_text(json.dumps(_collected, indent=2, default=str) + "\n")
    terminalreporter.write_line(f"(also in {FIGURES_FILE})")
