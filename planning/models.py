"""Restock's own domain data, as the ERP connector delivers it and the engine reads it.

Units: quantities are cartons, dates are calendar dates in the customer's time zone.
These models carry no ERP vocabulary; `erp/` maps the ERP's payloads onto them.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class DomainModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductStatus(StrEnum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


class CreditStatus(StrEnum):
    OK = "ok"
    HOLD = "hold"


class OrderStatus(StrEnum):
    APPROVED = "approved"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


PIPELINE_STATUSES = frozenset({OrderStatus.APPROVED, OrderStatus.IN_TRANSIT})


class Contact(DomainModel):
    name: str
    email: str
    role: str = "buyer"


class CustomerProfile(DomainModel):
    code: str = Field(description="The customer's code in the ERP")
    name: str
    contacts: list[Contact] = Field(default_factory=list)
    credit_status: CreditStatus = CreditStatus.OK
    lead_time_weeks: int = Field(ge=0, description="Weeks from order submission to delivery")
    container_capacity_cartons: int = Field(default=90_000, gt=0)
    timezone: str = "UTC"


class Product(DomainModel):
    code: str
    name: str
    pack_size: int = Field(ge=1, description="Order quantities are multiples of this, in cartons")
    moq: int = Field(default=0, ge=0, description="Minimum order quantity, in cartons")
    status: ProductStatus = ProductStatus.ACTIVE
    carton_weight_kg: float | None = Field(default=None, ge=0)
    carton_volume_m3: float | None = Field(default=None, ge=0)
    stock_on_hand: int | None = Field(
        default=None, description="Cartons at the customer; None when the ERP did not say"
    )


class Shipment(DomainModel):
    """Cartons shipped to the customer on a day: the history consumption is forecast from."""

    product_code: str
    ship_date: date
    quantity: int = Field(ge=0)


class OrderLine(DomainModel):
    product_code: str
    quantity: int = Field(gt=0)


class ErpOrder(DomainModel):
    order_number: str
    status: OrderStatus
    ordered_on: date
    eta: date | None = None
    delivered_on: date | None = None
    reference: str | None = Field(
        default=None, description="Our reference on the order (the idempotency key we sent)"
    )
    lines: list[OrderLine]

    @property
    def in_pipeline(self) -> bool:
        return self.status in PIPELINE_STATUSES
