"""Starting cycles and deciding on them: request bodies and answers of the cycle action routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from api.schemas.common import JsonInt
from workflows.contract.cycle import CycleState, OrderView

ProductCode = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]
# A map keyed by product codes: its schema states the key pattern as `patternProperties`,
# so only this says that a key outside the pattern is not allowed.
CODES_ONLY: dict[str, Any] = {"additionalProperties": False}
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

_WORKFLOW_ID = "reorder-cycle-1"
_RUN_ID = "0195f0a2-7c1e-7d59-a3c8-6f8e2d1b9a40"
_UI_URL = f"http://127.0.0.1:8233/namespaces/default/workflows/{_WORKFLOW_ID}/{_RUN_ID}"
_ORDER: JsonDict = {
    "order_id": 31,
    "container_index": 1,
    "idempotency_key": f"{_WORKFLOW_ID}:{_RUN_ID}:v4:c1",
    "cartons": 89_640,
    "status": "approved",
    "erp_order_number": None,
    "eta": None,
    "failure": None,
}
_STATE: JsonDict = {
    "workflow_id": _WORKFLOW_ID,
    "customer_id": 1,
    "customer_name": "Harbour Café Group",
    "status": "awaiting_approval",
    "recommendation": {
        "version": 4,
        "summary": "2 containers, 1 urgent, 179,280 cartons",
        "containers": [
            {
                "index": 1,
                "cartons": 89_640,
                "fill_pct": 99.6,
                "urgent": True,
                "lines": [
                    {
                        "product_code": "P-00017",
                        "name": "Oat milk 1 l",
                        "quantity": 3_720,
                        "pack_size": 12,
                        "moq": 120,
                        "urgent": True,
                    }
                ],
            }
        ],
    },
    "decision": None,
    "orders": [],
    "failure": None,
    "reminders_sent": 0,
    "waiting_since": "2026-11-16T06:00:09Z",
    "expires_at": "2026-11-19T06:00:09Z",
}
_RECORD: JsonDict = {
    "id": 12,
    "workflow_id": _WORKFLOW_ID,
    "status": "awaiting_approval",
    "recommendation_version": 4,
    "order_id": None,
    "detail": "2 containers, 1 urgent, 179,280 cartons",
    "started_at": "2026-11-16T06:00:00Z",
    "updated_at": "2026-11-16T06:00:09Z",
    "finished_at": None,
}


class CycleRecordOut(BaseModel):
    """The cycle's row in the read model (what the workflow last reported)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    workflow_id: str
    run_id: str | None
    status: str
    recommendation_version: int | None
    detail: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class CycleView(BaseModel):
    """A customer's cycle: live from the workflow while it is open, else from its outcome and
    the read model."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workflow_id": _WORKFLOW_ID,
                    "run_id": _RUN_ID,
                    "status": "awaiting_approval",
                    "open": True,
                    "started": True,
                    "temporal_ui_url": _UI_URL,
                    "state": _STATE,
                    "record": {**_RECORD, "run_id": _RUN_ID},
                }
            ]
        }
    )

    workflow_id: str
    run_id: str | None
    status: str = Field(description="The cycle's status, e.g. awaiting_approval, completed")
    open: bool = Field(description="True while the workflow runs and can take decisions")
    started: bool | None = Field(
        default=None,
        description="On start: true if this request started the cycle, false if the open one "
        "was returned",
    )
    review: str | None = Field(
        default=None,
        description="On start, when a cycle was open: what the review did with it "
        "(refreshed, skipped) and why",
    )
    temporal_ui_url: str | None = Field(
        description="The workflow in the Temporal UI (ops only: the UI is an internal tool)"
    )
    state: CycleState | None = Field(
        description="The workflow's full state (its status query, or its result once it "
        "completed); null when only the read model knows the cycle"
    )
    record: CycleRecordOut | None = Field(description="The read-model row of this run")


class ChoiceBody(BaseModel):
    """The containers and edited quantities of an approval (its review takes the same)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{}, {"containers": [1], "edits": {"P-00017": 2_400, "P-00031": 0}}]
        },
    )

    containers: list[Annotated[JsonInt, Field(ge=0)]] | None = Field(
        default=None,
        max_length=1_000,
        description="Container indexes to approve; all when omitted",
    )
    edits: dict[ProductCode, Annotated[JsonInt, Field(ge=0, le=100_000_000)]] = Field(
        default_factory=dict,
        max_length=10_000,
        description="Product code -> new quantity in cartons (0 removes the line); a product "
        "of the customer's catalogue the recommendation does not order is added with its "
        "quantity; the chosen containers are re-packed and must stay as many",
        json_schema_extra=CODES_ONLY,
    )


class ApproveBody(ChoiceBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"version": 4},
                {"version": 4, "containers": [1], "edits": {"P-00017": 2_400, "P-00031": 0}},
            ]
        },
    )

    version: int = Field(ge=1, description="The recommendation version the approver saw")
    credit_override: str | None = Field(
        default=None,
        min_length=3,
        max_length=500,
        description="Operations staff only: why to approve although the ERP has the "
        "customer's credit on hold (audited); refused from anyone else",
    )


class OrdersOut(BaseModel):
    """The orders an approval created; the cycle submits them to the ERP next."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workflow_id": _WORKFLOW_ID,
                    "version": 4,
                    "orders": [_ORDER],
                    "temporal_ui_url": f"http://127.0.0.1:8233/namespaces/default/workflows/"
                    f"{_WORKFLOW_ID}",
                }
            ]
        }
    )

    workflow_id: str
    version: int
    orders: list[OrderView]
    temporal_ui_url: str | None = Field(description="The cycle in the Temporal UI (ops only)")


class RejectBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "stock count pending"}]}
    )

    reason: Reason = Field(description="Why the recommendation is rejected (audited)")


class OpsActionBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "product P-00017 unblocked in the ERP"}]},
    )

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = Field(
        default="", description="Why (audited)"
    )


class ProposeBody(ChoiceBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"version": 4, "containers": [1, 2]}]},
    )

    version: int = Field(ge=1, description="The recommendation version proposed")


class CycleStateOut(BaseModel):
    """A cycle's state after a decision."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"state": _STATE}]})

    state: CycleState


class OpsCycleOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_RECORD,
                    "customer_id": 1,
                    "run_id": _RUN_ID,
                    "temporal_ui_url": _UI_URL,
                }
            ]
        }
    )

    id: int
    customer_id: int
    workflow_id: str
    run_id: str | None
    status: str
    recommendation_version: int | None
    order_id: int | None
    detail: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    temporal_ui_url: str
