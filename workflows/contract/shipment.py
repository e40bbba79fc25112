"""The Shipment workflow's contract: one ERP order followed from acceptance to delivery.

A shipment learns what the ERP says of its order either by polling (`ShipmentCheck` →
`Observation`) or from a signed push the API receives (`Observation` by signal). Pure rules
(`workflows.shipment_rules`) turn observations into `ShipmentChange`s, which the
`record_shipment` activity writes to the read model.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class ShipmentStatus(StrEnum):
    AWAITING_SHIPMENT = "awaiting_shipment"
    IN_TRANSIT = "in_transit"
    LATE = "late"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"


FINAL_SHIPMENT_STATUSES = frozenset(
    {ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED, ShipmentStatus.FAILED}
)

ErpOrderState = Literal["submitted", "in_transit", "delivered", "cancelled"]


class ShipmentPolicy(BaseModel):
    poll_initial: timedelta = timedelta(minutes=5)
    poll_max: timedelta = timedelta(hours=6)
    continue_after_events: int = Field(
        default=2_000, ge=50, description="Continue as new once the history holds this many"
    )
    unreadable_after: int = Field(
        default=3,
        ge=1,
        description="Consecutive failed checks after which ops are told the ERP cannot be read",
    )


class Observation(BaseModel):
    """What the ERP says of the order: by a poll, or pushed by the ERP (`event_id` set)."""

    status: ErpOrderState
    eta: date | None = None
    delivered_on: date | None = None
    source: Literal["poll", "push"] = "poll"
    event_id: str | None = None
    event_type: str | None = None


class ShipmentChange(BaseModel):
    kind: Literal["shipped", "eta_changed", "late", "delivered", "cancelled"]
    detail: str
    eta_before: date | None = None
    eta_after: date | None = None


class ShipmentState(BaseModel):
    workflow_id: str
    customer_id: int
    customer_name: str
    order_id: int
    erp_order_number: str
    container_index: int | None = None
    cycle_workflow_id: str | None = None
    status: ShipmentStatus = ShipmentStatus.AWAITING_SHIPMENT
    erp_status: ErpOrderState = "submitted"
    promised_eta: date | None = None
    eta: date | None = None
    delivered_on: date | None = None
    late: bool = False
    late_reason: str | None = None
    eta_changes: int = 0
    checks: int = 0
    pushes: int = 0
    failed_checks: int = Field(default=0, description="Consecutive checks that failed")
    erp_unreadable_reported: bool = False
    seen_events: list[str] = Field(
        default_factory=list, description="The latest pushed event ids (bounded)"
    )
    runs: int = Field(default=1, description="Runs so far, counting each continue-as-new")

    @property
    def finished(self) -> bool:
        return self.status in FINAL_SHIPMENT_STATUSES


class ShipmentInput(BaseModel):
    customer_id: int
    customer_name: str
    erp_customer: str | None = None
    order_id: int
    erp_order_number: str
    container_index: int | None = None
    cycle_workflow_id: str | None = None
    promised_eta: date | None = None
    policy: ShipmentPolicy = Field(default_factory=ShipmentPolicy)
    carried: ShipmentState | None = Field(
        default=None, description="The state a continued-as-new run resumes from"
    )
    poll_interval: timedelta | None = None


class ShipmentStart(BaseModel):
    workflow_id: str
    shipment: ShipmentInput


class ShipmentCheck(BaseModel):
    customer_id: int
    order_id: int


class ShipmentRecord(BaseModel):
    """One state change of a shipment for the read model (the order's row) and the audit log."""

    workflow_id: str
    customer_id: int
    order_id: int
    status: ShipmentStatus
    erp_status: ErpOrderState
    promised_eta: date | None
    eta: date | None
    delivered_on: date | None
    late: bool
    late_reason: str | None
    changes: list[ShipmentChange] = Field(default_factory=list)
    source: str = "poll"
    at: datetime | None = None
