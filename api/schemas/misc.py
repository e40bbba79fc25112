"""Ops-facing shapes: data-quality reports and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from erp.models import DataQualityReport


class DataQualityOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 1,
                    "erp_code": "K-10040",
                    "synced_at": "2026-11-16T06:00:03Z",
                    "as_of": "2026-11-16",
                    "issues": 2,
                    "report": {
                        "counts": {"negative_stock": 2},
                        "rows_received": {"products": 40, "shipments": 3120},
                        "rows_kept": {"products": 40, "shipments": 3120},
                        "examples": [
                            {
                                "reason": "negative_stock",
                                "entity": "product",
                                "key": "P-00003",
                                "field": "stock_on_hand",
                                "detail": "stock -4 reported; treated as 0",
                                "action": "corrected",
                            }
                        ],
                        "gaps": [],
                    },
                }
            ]
        }
    )

    customer_id: int
    erp_code: str
    synced_at: datetime
    as_of: date
    issues: int
    report: DataQualityReport


class AuditOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 90,
                    "at": "2026-11-16T08:14:02Z",
                    "actor": "user:ops",
                    "customer_id": 1,
                    "action": "settings.updated",
                    "target_type": "customer_settings",
                    "target_id": "1",
                    "details": {"changes": {"lead_time_weeks": {"from": 10, "to": 8}}},
                }
            ]
        },
    )

    id: int
    at: datetime
    actor: str = Field(description="user:<name>, system:<process>, erp:sync or cli")
    customer_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
