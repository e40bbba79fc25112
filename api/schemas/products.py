from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class ProductOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "P-00017",
                    "name": "Organic Coffee Beans 1 kg",
                    "pack_size": 12,
                    "moq": 120,
                    "product_status": "active",
                    "stock_on_hand": 840,
                    "weekly_forecast": 310.5,
                    "forecast": [310.5, 310.5, 312.0],
                    "pipeline": 0,
                    "weeks_of_cover": 2.7,
                    "run_out_date": "2026-12-04",
                    "status": "at_risk",
                    "urgent": True,
                    "ordered_quantity": 3720,
                    "pattern": "smooth",
                    "method": "ses",
                    "carton_weight_kg": 12.4,
                    "carton_volume_m3": 0.03,
                }
            ]
        },
    )

    code: str
    name: str = Field(description="As the ERP has it; returned verbatim as a JSON string")
    pack_size: int
    moq: int
    product_status: str = Field(description="active or discontinued, from the ERP")
    stock_on_hand: int | None = Field(description="Cartons; null when the ERP did not report it")
    weekly_forecast: float | None
    forecast: list[float] = Field(description="Forecast cartons for each of the next weeks")
    pipeline: int = Field(description="Cartons approved or in transit")
    weeks_of_cover: float | None = Field(description="null when consumption is zero (unbounded)")
    run_out_date: date | None
    status: str = Field(
        validation_alias="plan_status",
        description="at_risk, reorder, healthy, no_history, discontinued (unplanned before the "
        "first recommendation)",
    )
    urgent: bool
    ordered_quantity: int = Field(description="Cartons in the current recommendation")
    pattern: str | None
    method: str | None
    carton_weight_kg: float | None
    carton_volume_m3: float | None


class WeekCartons(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    week_start: date = Field(
        description="First day of the week; weeks are counted back from the snapshot date, "
        "as the planner counts them"
    )
    cartons: int


class ProductDetail(ProductOut):
    """One product with its past shipments and its projected stock against the target."""

    weekly_shipments: list[WeekCartons] = Field(description="The last 52 weeks, oldest first")
    projected_stock: list[WeekCartons] = Field(
        description="Stock at the start of each forecast week: on hand + pipeline - forecast, "
        "floored at zero"
    )
    target_weeks: float = Field(description="The customer's target stock, in weeks of cover")
    target_cartons: int | None = Field(description="target_weeks x weekly forecast")
