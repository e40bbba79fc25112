"""How one customer wants to be planned: targets, lead time, containers, forecast, policy.

Every field has a documented default so `PlanSettings()` is a sensible policy on its own;
the workflow builds it from the customer's stored settings. Validation errors name the
field (pydantic's `loc`), including keys of `target_soh_overrides`.
"""

from __future__ import annotations

from enum import StrEnum
from statistics import NormalDist
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class ForecastMethod(StrEnum):
    AUTO = "auto"
    TRAILING_AVERAGE = "trailing_average"
    SES = "ses"
    SEASONAL = "seasonal"
    CROSTON_SBA = "croston_sba"
    TSB = "tsb"


class SafetyStockMode(StrEnum):
    WEEKS = "weeks"
    SERVICE_LEVEL = "service_level"


class LastContainerPolicy(StrEnum):
    AUTO = "auto"
    TOP_UP = "top_up"
    DROP = "drop"
    KEEP = "keep"


class MissingStockPolicy(StrEnum):
    ASSUME_ZERO = "assume_zero"
    SKIP = "skip"


PositiveWeeks = Annotated[float, Field(gt=0, le=104)]


class PlanSettings(BaseModel):
    """The replenishment policy for one customer.

    Units: weeks, cartons, kilograms, cubic metres.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- targets -------------------------------------------------------------------------
    target_soh_weeks: float = Field(
        default=8.0,
        gt=0,
        le=104,
        description="Target stock on hand at arrival, in weeks of forecast consumption",
    )
    target_soh_overrides: dict[str, PositiveWeeks] = Field(
        default_factory=dict, description="Per-product target in weeks, by product code"
    )
    lead_time_weeks: float = Field(
        default=10.0,
        ge=0,
        le=52,
        description="Weeks from order submission to delivery (fractional: days / 7); the "
        "fallback when the order history is too short to measure it",
    )
    review_period_weeks: float = Field(
        default=1.0,
        ge=1 / 7,
        le=26,
        description="Weeks between planning cycles (the customer's cadence; days / 7)",
    )
    measure_lead_time: bool = Field(
        default=True,
        description="Measure the lead time (mean and spread) from delivered orders when "
        "there are at least min_lead_time_orders of them",
    )
    min_lead_time_orders: int = Field(default=5, ge=2, le=1000)
    lead_time_history_weeks: int = Field(
        default=52, ge=4, le=520, description="Deliveries of this many weeks are measured"
    )

    # --- safety stock --------------------------------------------------------------------
    safety_stock_mode: SafetyStockMode = Field(
        default=SafetyStockMode.SERVICE_LEVEL,
        description="service_level: z * sqrt((L+R) * sigma_d^2 + d^2 * sigma_L^2), sigma_d "
        "measured from the forecast's own error; weeks: safety_weeks of forecast",
    )
    safety_weeks: float = Field(
        default=2.0, ge=0, le=52, description="Safety stock in weeks of cover (mode 'weeks')"
    )
    service_level: float = Field(
        default=0.955,
        gt=0.5,
        lt=1.0,
        description="Cycle service level (mode 'service_level'): safety = "
        "z*sqrt((L+R)*sigma_d^2 + d^2*sigma_L^2)",
    )
    sigma_weeks: int = Field(
        default=26, ge=4, le=156, description="Weeks of history the demand sigma is taken from"
    )

    # --- forecast ------------------------------------------------------------------------
    forecast_method: ForecastMethod = ForecastMethod.AUTO
    trailing_weeks: int = Field(
        default=12, ge=1, le=156, description="N for the trailing average (the baseline)"
    )
    ses_alpha: float = Field(default=0.2, gt=0, le=1, description="SES smoothing constant")
    intermittent_alpha: float = Field(
        default=0.1, gt=0, le=1, description="Croston/SBA and TSB size smoothing constant"
    )
    tsb_beta: float = Field(
        default=0.1, gt=0, le=1, description="TSB demand-probability smoothing constant"
    )
    history_weeks: int = Field(
        default=156, ge=8, le=520, description="At most this many weeks of history are read"
    )
    min_history_weeks: int = Field(
        default=8,
        ge=1,
        le=52,
        description="Below this many weeks since the first shipment the short-history rule applies",
    )
    selection_horizon_weeks: int = Field(
        default=8, ge=1, le=26, description="Horizon of the rolling-origin backtest in auto mode"
    )
    selection_origins: int = Field(
        default=6, ge=1, le=26, description="Number of rolling origins (4 weeks apart) in auto mode"
    )

    # --- containers ----------------------------------------------------------------------
    container_capacity_cartons: int = Field(default=90_000, gt=0)
    container_max_weight_kg: float | None = Field(default=None, gt=0)
    container_max_volume_m3: float | None = Field(default=None, gt=0)
    last_container: LastContainerPolicy = Field(
        default=LastContainerPolicy.TOP_UP,
        description=(
            "auto (recommended): top up the last container within one container's worth of "
            "weeks; ship it full, else weigh the demand waiting a review would lose against "
            "its empty space (before any consumption history, from shipments alone: ship it "
            "as packed); top_up (the default, for existing callers): fill it by pulling "
            "forward the products that run out next (up to max_cover_weeks), then drop it if "
            "still below min_fill_pct and "
            "nothing in it is urgent; drop: drop it when below min_fill_pct and not urgent; "
            "keep: ship it as it is. A shipped container below min_fill_pct is flagged"
        ),
    )
    min_fill_pct: float = Field(
        default=50.0,
        ge=0,
        le=100,
        description="A shipped container below this fill is flagged with its cost; "
        "top_up and drop drop a non-urgent last container below it",
    )
    lost_sale_weight: float = Field(
        default=5.0,
        ge=0,
        le=10_000,
        description="auto: a carton of demand lost by waiting a review weighs this many empty "
        "carton slots of a part-filled container (margin lost vs freight wasted)",
    )
    max_cover_weeks: float = Field(
        default=26.0,
        gt=0,
        le=156,
        description="Pull-forward never lifts cover at arrival above this",
    )

    # --- data quality --------------------------------------------------------------------
    missing_stock: MissingStockPolicy = Field(
        default=MissingStockPolicy.ASSUME_ZERO,
        description="No stock on hand from the ERP: plan as if 0 (flagged), or skip",
    )

    @field_validator("max_cover_weeks")
    @classmethod
    def _cover_above_target(cls, value: float, info: ValidationInfo) -> float:
        """Pull-forward up to a cover below the target would contradict the target itself."""
        if info.data.get("last_container") not in (
            LastContainerPolicy.TOP_UP,
            LastContainerPolicy.AUTO,
        ):
            return value
        targets = [info.data.get("target_soh_weeks", 0.0)]
        targets += list(info.data.get("target_soh_overrides", {}).values())
        highest = max(t for t in targets if t is not None)
        if value < highest:
            raise ValueError(
                f"must be at least the highest target_soh_weeks ({highest:g}) "
                "when last_container is top_up or auto"
            )
        return value

    def target_weeks_for(self, code: str) -> float:
        return self.target_soh_overrides.get(code, self.target_soh_weeks)

    @property
    def z(self) -> float:
        """The standard normal quantile of `service_level` (0.955 -> 1.695)."""
        return NormalDist().inv_cdf(self.service_level)

    @property
    def has_weight_limit(self) -> bool:
        return self.container_max_weight_kg is not None

    @property
    def has_volume_limit(self) -> bool:
        return self.container_max_volume_m3 is not None
