"""What the service functions return: plain pydantic, safe to pass through Temporal."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from planning.schemas import Container, Line, Totals
from planning.settings import PlanSettings


class SyncResult(BaseModel):
    customer_id: int
    erp_code: str
    synced_at: datetime
    as_of: date = Field(description="The ERP's business date the snapshot was taken on")
    products: int
    shipments: int
    orders: int
    orders_created: int = Field(description="ERP orders seen for the first time")
    orders_updated: int = Field(description="Known orders whose status or dates changed")
    data_quality_issues: int
    changed: bool = Field(description="False when the ERP data equals the previous snapshot")


class RecommendationVersion(BaseModel):
    customer_id: int
    version: int
    status: str
    as_of: date
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    summary: str
    urgent: bool
    totals: Totals
    warnings: list[str]
    containers: list[Container]
    lines: list[Line]
    settings: PlanSettings | None = Field(
        default=None, description="The policy it was planned with (None if no longer readable)"
    )
    created: bool = Field(
        default=False, description="True when this call made a new version (False: reused)"
    )
