from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

_ORDER_EXAMPLE: JsonDict = {
    "id": 31,
    "status": "in_transit",
    "source": "restock",
    "erp_order_number": "SO-204511",
    "recommendation_version": 3,
    "ordered_on": "2026-10-05",
    "eta": "2026-12-14",
    "delivered_on": None,
    "cartons": 90000,
    "lines": [{"product_code": "P-00017", "quantity": 3720}],
    "failure_reason": None,
    "created_at": "2026-10-05T07:12:44Z",
    "updated_at": "2026-10-19T06:00:03Z",
}


class OrderLineOut(BaseModel):
    product_code: str
    quantity: int
    unit_price: Decimal | None = Field(default=None, description="Per carton, at approval")
    value: Decimal | None = None


class OrderOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_ORDER_EXAMPLE]}
    )

    id: int
    status: str = Field(description="approved, submitted, in_transit, delivered, failed, cancelled")
    source: str = Field(description="restock (approved here) or erp (found in the ERP)")
    erp_order_number: str | None
    recommendation_version: int | None
    ordered_on: date
    eta: date | None
    delivered_on: date | None
    cartons: int
    value: Decimal | None = Field(
        default=None,
        description="At the ERP's prices of its recommendation's plan day (decimal text)",
    )
    currency: str | None = None
    lines: list[OrderLineOut]
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    at: datetime
    actor: str
    note: str | None


class OrderDetail(OrderOut):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_ORDER_EXAMPLE,
                    "history": [
                        {
                            "status": "approved",
                            "at": "2026-10-05T07:12:44Z",
                            "actor": "user:buyer",
                            "note": None,
                        },
                        {
                            "status": "submitted",
                            "at": "2026-10-05T07:12:50Z",
                            "actor": "system:workflow",
                            "note": None,
                        },
                        {
                            "status": "in_transit",
                            "at": "2026-10-19T06:00:03Z",
                            "actor": "erp:sync",
                            "note": "ERP status",
                        },
                    ],
                }
            ]
        },
    )

    history: list[StatusChangeOut]
