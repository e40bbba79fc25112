"""Customer settings: the validated schema ops edit, and the `PlanSettings` built from it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput
from planning.settings import ForecastMethod, LastContainerPolicy, PlanSettings, SafetyStockMode
from store import audit
from store import customer_settings as settings_repo
from store.models import Customer, CustomerSettings, SnapshotProduct

ProductCode = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]
Weeks = Annotated[float, Field(gt=0, le=104, allow_inf_nan=False)]


class CustomerSettingsValues(BaseModel):
    """Everything ops tune per customer. Units: weeks, cartons, kg, m³, hours."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "timezone": "Europe/Berlin",
                    "target_soh_weeks": 8,
                    "target_soh_overrides": {"P-00017": 12},
                    "lead_time_weeks": 10,
                    "measure_lead_time": True,
                    "safety_stock_mode": "weeks",
                    "safety_weeks": 2,
                    "service_level": 0.955,
                    "forecast_method": "auto",
                    "container_capacity_cartons": 90000,
                    "container_max_weight_kg": 26000,
                    "container_max_volume_m3": None,
                    "last_container": "auto",
                    "cycles_enabled": True,
                    "cadence_weeks": 1,
                    "cycle_weekday": 0,
                    "cycle_hour": 6,
                    "approval_timeout_hours": 72,
                    "reminder_hours": 24,
                    "auto_approve": False,
                    "auto_approve_after_hours": 24,
                    "auto_approve_max_cartons": None,
                    "auto_approve_max_containers": None,
                    "auto_approve_max_value": None,
                }
            ]
        },
    )

    timezone: str = Field(max_length=64, description="IANA time zone, e.g. Europe/Berlin")
    target_soh_weeks: Weeks = Field(description="Target stock on hand at arrival, in weeks")
    target_soh_overrides: dict[ProductCode, Weeks] = Field(
        default_factory=dict, max_length=10_000, description="Per-product target, by code"
    )
    lead_time_weeks: float = Field(
        ge=0,
        le=52,
        allow_inf_nan=False,
        description="Order to delivery, in weeks (fractions allowed: 1.5 = 10.5 days); with "
        "measure_lead_time, only until the order history measures it",
    )
    measure_lead_time: bool = Field(
        default=True,
        description="Measure the lead time (mean and spread) from delivered orders when there "
        "are enough of them",
    )
    safety_stock_mode: SafetyStockMode
    safety_weeks: float = Field(ge=0, le=52, allow_inf_nan=False)
    service_level: float = Field(gt=0.5, lt=1.0, allow_inf_nan=False)
    forecast_method: ForecastMethod
    container_capacity_cartons: int = Field(gt=0, le=10_000_000)
    container_max_weight_kg: float | None = Field(gt=0, le=1_000_000, allow_inf_nan=False)
    container_max_volume_m3: float | None = Field(gt=0, le=10_000, allow_inf_nan=False)
    last_container: LastContainerPolicy = Field(
        default=LastContainerPolicy.AUTO,
        description="A last container that is not full: auto (top up, drop or wait a review, "
        "whichever costs least; as packed until the plan has consumption history), top_up, "
        "drop or keep",
    )
    cycles_enabled: bool
    cadence_weeks: int = Field(ge=1, le=26, description="Weeks between cycles")
    cycle_weekday: int = Field(ge=0, le=6, description="0 = Monday, in the customer's time zone")
    cycle_hour: int = Field(ge=0, le=23, description="Local hour the cycle starts")
    approval_timeout_hours: int = Field(ge=1, le=24 * 30)
    reminder_hours: int = Field(ge=1, le=24 * 30)
    auto_approve: bool = Field(
        description="Approve the urgent containers by policy when no one decided within "
        "auto_approve_after_hours"
    )
    auto_approve_after_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description="Grace period before urgent containers are approved by policy",
    )
    auto_approve_max_cartons: int | None = Field(ge=1, le=100_000_000)
    auto_approve_max_containers: int | None = Field(ge=1, le=1_000)
    auto_approve_max_value: Decimal | None = Field(
        default=None,
        gt=0,
        le=Decimal("1e12"),
        decimal_places=4,
        description="An auto-approval takes containers worth at most this much in total, in "
        "the account's currency (containers without a price are then left to a person)",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("reminder_hours")
    @classmethod
    def _reminder_before_expiry(cls, value: int, info: Any) -> int:
        timeout = info.data.get("approval_timeout_hours")
        if timeout is not None and value >= timeout:
            raise ValueError("must be less than approval_timeout_hours")
        return value

    @field_validator("auto_approve_after_hours")
    @classmethod
    def _grace_before_expiry(cls, value: int, info: Any) -> int:
        timeout = info.data.get("approval_timeout_hours")
        if info.data.get("auto_approve") and timeout is not None and value >= timeout:
            raise ValueError("must be less than approval_timeout_hours when auto_approve is on")
        return value


_STORED_FIELDS = [name for name in CustomerSettingsValues.model_fields if name != "timezone"]


def values_of(customer: Customer, row: CustomerSettings) -> CustomerSettingsValues:
    data = {name: getattr(row, name) for name in _STORED_FIELDS}
    return CustomerSettingsValues.model_validate({"timezone": customer.timezone, **data})


def plan_settings(row: CustomerSettings) -> PlanSettings:
    """The planning policy for a customer's stored settings."""
    return plan_settings_from(row.values())


def plan_settings_from(fields: Mapping[str, Any]) -> PlanSettings:
    overrides = dict(fields["target_soh_overrides"])
    highest_target = max([fields["target_soh_weeks"], *overrides.values()])
    return PlanSettings(
        target_soh_weeks=fields["target_soh_weeks"],
        target_soh_overrides=overrides,
        lead_time_weeks=fields["lead_time_weeks"],
        measure_lead_time=fields["measure_lead_time"],
        review_period_weeks=fields["cadence_weeks"],
        safety_stock_mode=SafetyStockMode(fields["safety_stock_mode"]),
        safety_weeks=fields["safety_weeks"],
        service_level=fields["service_level"],
        forecast_method=ForecastMethod(fields["forecast_method"]),
        container_capacity_cartons=fields["container_capacity_cartons"],
        container_max_weight_kg=fields["container_max_weight_kg"],
        container_max_volume_m3=fields["container_max_volume_m3"],
        last_container=LastContainerPolicy(fields["last_container"]),
        max_cover_weeks=max(26.0, highest_target),
    )


async def read(session: AsyncSession, customer: Customer) -> CustomerSettingsValues:
    row = await settings_repo.get_or_create(session, customer.id)
    return values_of(customer, row)


async def _check_packs_fit(
    session: AsyncSession, customer_id: int, fields: Mapping[str, Any]
) -> None:
    """One pack of every active product must fit in an empty container, or no plan can be
    packed: refused here, naming the limit and the product, before anything is stored. A
    conflict with the customer's data (409), not a malformed value (422)."""
    rows = await session.execute(
        select(
            SnapshotProduct.code,
            SnapshotProduct.pack_size,
            SnapshotProduct.carton_weight_kg,
            SnapshotProduct.carton_volume_m3,
        ).where(
            SnapshotProduct.customer_id == customer_id, SnapshotProduct.product_status == "active"
        )
    )
    limits = (
        ("container_capacity_cartons", "cartons", lambda pack, _w, _v: float(pack)),
        ("container_max_weight_kg", "kg", lambda pack, w, _v: pack * w if w else 0.0),
        ("container_max_volume_m3", "m³", lambda pack, _w, v: pack * v if v else 0.0),
    )
    products = list(rows)
    for field, unit, need in limits:
        limit = fields[field]
        if limit is None or not products:
            continue
        code, pack, weight, volume = max(products, key=lambda p: need(p[1], p[2], p[3]))
        needed = need(pack, weight, volume)
        if needed > limit:
            raise Conflict(
                f"one pack of product {code} ({pack} cartons) needs {needed:,.3g} {unit}, more "
                f"than a container of {limit:,.3g} {unit} holds: no plan could be packed",
                field=field,
                code="container_too_small",
            )


async def update(
    session: AsyncSession,
    customer: Customer,
    values: CustomerSettingsValues,
    *,
    actor: str,
    user_id: int | None = None,
) -> CustomerSettingsValues:
    """Store `values` (already validated) and append the change to the audit log."""
    fields = values.model_dump(exclude={"timezone"})
    if fields["auto_approve_max_value"] is not None:
        fields["auto_approve_max_value"] = str(fields["auto_approve_max_value"])
    try:
        plan_settings_from(fields)
    except ValueError as exc:  # the engine's own cross-field rules
        raise InvalidInput(str(exc)) from exc
    await _check_packs_fit(session, customer.id, fields)
    changes: dict[str, dict[str, Any]] = {}
    if customer.timezone != values.timezone:
        changes["timezone"] = {"from": customer.timezone, "to": values.timezone}
        customer.timezone = values.timezone
    stored, setting_changes = await settings_repo.update(
        session, customer.id, fields, updated_by=actor
    )
    changes.update(setting_changes)
    if changes:
        await audit.append(
            session,
            actor=actor,
            action="settings.updated",
            customer_id=customer.id,
            user_id=user_id,
            target_type="customer_settings",
            target_id=customer.id,
            details={"changes": changes},
        )
    return values_of(customer, stored)
