"""The contract of `ScheduledCycleStart`, what a customer's Temporal Schedule runs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ScheduledStartInput(BaseModel):
    customer_id: int


class ScheduledStartRequest(BaseModel):
    customer_id: int
    scheduled_at: datetime


class ScheduledStartResult(BaseModel):
    customer_id: int
    started: bool
    workflow_id: str | None = None
    run_id: str | None = None
    action: str | None = Field(
        default=None,
        description="started | refreshed | skipped: what the review did with the customer's cycle",
    )
    skipped: str | None = Field(default=None, description="Why nothing was started or refreshed")
