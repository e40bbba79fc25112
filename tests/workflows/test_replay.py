"""Replays checked-in histories of finished workflows against today's code: every shape of
`ReorderCycle` (generations), a `Shipment` and a `Notification`.

A change to a workflow that would break runs already open (a reordered, added or removed
activity, timer or search-attribute upsert on an existing code path without a
`workflow.patched` guard) makes these fail. The histories come from `make_histories.py`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.contract.cycle import CycleInput, CycleState
from workflows.notification import Notification
from workflows.reorder_cycle import ReorderCycle
from workflows.shipment import Shipment

HISTORIES = Path(__file__).resolve().parent / "histories"
# Per scenario: the workflow it records, its final status per generation (the cycle ends at
# the submission since `shipments`), and activities every generation of it schedules.
CYCLE_DONE = {"": "completed", "submit-in-approval": "completed", "shipments": "submitted"}
EXPECTED: dict[str, tuple[type, dict[str, str], list[str]]] = {
    "approved": (ReorderCycle, CYCLE_DONE, ["record_cycle"]),
    "rejected": (ReorderCycle, defaultdict(lambda: "rejected"), ["record_rejection"]),
    "expired": (ReorderCycle, defaultdict(lambda: "expired"), ["record_cycle"]),
    "failed_then_retried": (ReorderCycle, CYCLE_DONE, ["submit_order"]),
    "reviewed": (ReorderCycle, CYCLE_DONE, ["sync_customer", "recommend"]),
    "shipment": (Shipment, defaultdict(lambda: "delivered"), ["check_shipment"]),
    "notification": (Notification, defaultdict(lambda: "delivered"), ["notify"]),
}
# Activities each shape of the cycle schedules: tracking until `shipments`, shipments since.
SHAPE = {
    "": ["track_orders"],
    "submit-in-approval": ["track_orders"],
    "shipments": ["start_shipment", "send_notification"],
}
# <scenario>.json was recorded first; <scenario>.<generation>.json after a patched change.
RECORDED = sorted(path.name.removesuffix(".json") for path in HISTORIES.glob("*.json"))


def _parts(name: str) -> tuple[str, str]:
    scenario, _, generation = name.partition(".")
    return scenario, generation


def _history(name: str) -> WorkflowHistory:
    data = json.loads((HISTORIES / f"{name}.json").read_text())
    return WorkflowHistory.from_json(f"recorded-{name}", data)


def _final_status(history: WorkflowHistory) -> str:
    last = history.events[-1]
    assert last.HasField("workflow_execution_completed_event_attributes"), last
    payload = last.workflow_execution_completed_event_attributes.result.payloads[0]
    result = json.loads(payload.data)
    if "delivered" in result and "status" not in result:  # a Notification's result
        return "delivered" if result["delivered"] else "failed"
    status: str = result["status"]
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
    assert {_parts(name)[0] for name in RECORDED} == set(EXPECTED)
    assert set(CYCLE_DONE) == set(SHAPE)
    # Every generation of the cycle is kept: each proves its shape still replays.
    for generation in SHAPE:
        assert "approved" + (f".{generation}" if generation else "") in RECORDED, generation


@pytest.mark.parametrize("name", RECORDED)
async def test_recorded_history_replays(name: str) -> None:
    history = _history(name)
    scenario, generation = _parts(name)
    workflow_class, statuses, activities = EXPECTED[scenario]
    assert _final_status(history) == statuses[generation]
    scheduled = _activities(history)
    if scenario == "failed_then_retried":
        assert _erp_rejections(history), "the recorded cycle must include the ERP's rejection"
    if workflow_class is ReorderCycle and scenario in ("approved", "failed_then_retried"):
        activities = [*activities, *SHAPE[generation]]
    assert set(activities) <= scheduled, scheduled
    replayer = Replayer(workflows=[workflow_class], data_converter=pydantic_data_converter)
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
