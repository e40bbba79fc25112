"""Replays checked-in histories of finished cycles against today's `ReorderCycle`.

A change to the workflow that would break cycles already running (a reordered, added or
removed activity, timer or search-attribute upsert on an existing code path without a
`workflow.patched` guard) makes these fail. The histories come from `make_histories.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities.cycle_models import CycleInput, CycleState
from workflows.reorder_cycle import ReorderCycle

HISTORIES = Path(__file__).resolve().parent / "histories"
# Per scenario: the final status, and activities every generation of the workflow schedules.
EXPECTED = {
    "approved": ("completed", ["track_orders"]),
    "rejected": ("rejected", ["record_rejection"]),
    "expired": ("expired", ["notify"]),
    "failed_then_retried": ("completed", ["submit_order", "track_orders"]),
}
# <scenario>.json was recorded first; <scenario>.<generation>.json after a patched change.
RECORDED = sorted(path.name.removesuffix(".json") for path in HISTORIES.glob("*.json"))


def _history(name: str) -> WorkflowHistory:
    data = json.loads((HISTORIES / f"{name}.json").read_text())
    return WorkflowHistory.from_json(f"recorded-{name}", data)


def _final_status(history: WorkflowHistory) -> str:
    last = history.events[-1]
    assert last.HasField("workflow_execution_completed_event_attributes"), last
    payload = last.workflow_execution_completed_event_attributes.result.payloads[0]
    status: str = json.loads(payload.data)["status"]
    return status


def _activities(history: WorkflowHistory) -> set[str]:
    return {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }


def _erp_rejections(history: WorkflowHistory) -> int:
    """Submissions the ERP refused: failed `submit_order` activities, or first attempts made
    inside the approval (its local activity's result) marked rejected."""
    count = 0
    for e in history.events:
        if e.HasField("activity_task_failed_event_attributes"):
            count += "ErpRejected" in str(e.activity_task_failed_event_attributes.failure)
        elif e.HasField("marker_recorded_event_attributes"):
            result = e.marker_recorded_event_attributes.details.get("result")
            if result is not None and result.payloads:
                outcome = json.loads(result.payloads[0].data)
                if isinstance(outcome, dict):
                    count += sum(s["rejected"] for s in outcome.get("submissions", []))
    return count


def test_every_scenario_has_a_recorded_history() -> None:
    assert {name.split(".")[0] for name in RECORDED} == set(EXPECTED)
    assert set(EXPECTED) <= set(RECORDED)  # the first generation is kept


@pytest.mark.parametrize("name", RECORDED)
async def test_recorded_history_replays(name: str) -> None:
    history = _history(name)
    status, activities = EXPECTED[name.split(".")[0]]
    assert _final_status(history) == status
    scheduled = _activities(history)
    if name.startswith("failed_then_retried"):
        assert _erp_rejections(history), "the recorded cycle must include the ERP's rejection"
    assert set(activities) <= scheduled, scheduled
    replayer = Replayer(workflows=[ReorderCycle], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None


@workflow.defn(name="ReorderCycle", sandboxed=False)
class ReorderCycleWithoutNotices(ReorderCycle):
    """An unguarded change: the cycle stops notifying anyone."""

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleState:
        return await super().run(inp)

    async def _notify(self, kind: str, subject: str, body: str, *, to_ops: bool = False) -> None:
        return None


async def test_an_unguarded_change_fails_the_replay() -> None:
    replayer = Replayer(
        workflows=[ReorderCycleWithoutNotices], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(_history("expired"), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()
