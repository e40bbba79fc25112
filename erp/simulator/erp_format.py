"""How the simulated ERP writes its records: its own field names, codes, units and date formats.

Deliberately unlike Restock's models (grams, cm³, "YYYYMMDD" and "DD.MM.YYYY" dates, short
status codes), so the connector's mapping does real work. docs/erp-api.md describes the result.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from erp.simulator.generator import OrderRecord, ShipmentRecord
from erp.simulator.world import OrderEvent
from planning.models import (
    CreditStatus,
    CustomerProfile,
    OrderStatus,
    PriceRow,
    Product,
    ProductStatus,
)

ORDER_STATUS_CODES: dict[OrderStatus, str] = {
    OrderStatus.APPROVED: "APPR",
    OrderStatus.IN_TRANSIT: "INTR",
    OrderStatus.DELIVERED: "DLVD",
    OrderStatus.CANCELLED: "CANC",
}
STATUS_BY_CODE = {code: status for status, code in ORDER_STATUS_CODES.items()}
ITEM_STATUS_CODES = {ProductStatus.ACTIVE: "A", ProductStatus.DISCONTINUED: "D"}
CREDIT_CODES = {CreditStatus.OK: "OK", CreditStatus.HOLD: "HOLD"}
ROLE_CODES = {"buyer": "BUY", "planner": "PLN"}


def ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def dmy(day: date | None) -> str | None:
    return None if day is None else day.strftime("%d.%m.%Y")


def parse_ymd(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


def customer_doc(profile: CustomerProfile, business_date: date) -> dict[str, Any]:
    return {
        "CUST_NO": profile.code,
        "CUST_NAME": profile.name,
        "CREDIT_STAT": CREDIT_CODES[profile.credit_status],
        "LEAD_TIME_WKS": profile.lead_time_weeks,
        "CNTR_CAP_CTN": profile.container_capacity_cartons,
        "TZ": profile.timezone,
        "CONTACTS": [
            {
                "CONTACT_NAME": c.name,
                "EMAIL_ADDR": c.email,
                "ROLE_CD": ROLE_CODES.get(c.role, c.role.upper()[:3]),
            }
            for c in profile.contacts
        ],
        "CURR_CD": profile.currency,
        "CREDIT_LIMIT": None if profile.credit_limit is None else f"{profile.credit_limit:.2f}",
        "OPEN_BAL": None if profile.open_balance is None else f"{profile.open_balance:.2f}",
        "PAY_TERMS": profile.payment_terms,
        "AS_OF_DT": ymd(business_date),
    }


def price_rows(prices: list[PriceRow]) -> list[dict[str, Any]]:
    return [
        {
            "ITEM_CODE": p.product_code,
            "CURR_CD": p.currency,
            "UNIT_PRICE": str(p.unit_price),
            "VALID_FROM": ymd(p.valid_from),
            "VALID_TO": None if p.valid_to is None else ymd(p.valid_to),
            "MIN_QTY": p.min_quantity,
        }
        for p in prices
    ]


def item_row(product: Product, stock: int) -> dict[str, Any]:
    return {
        "ITEM_CODE": product.code,
        "ITEM_DESC": product.name,
        "PACK_QTY": product.pack_size,
        "MOQ_QTY": product.moq,
        "ITEM_STAT": ITEM_STATUS_CODES[product.status],
        "GROSS_WT_G": None
        if product.carton_weight_kg is None
        else round(product.carton_weight_kg * 1000),
        "CTN_VOL_CM3": None
        if product.carton_volume_m3 is None
        else round(product.carton_volume_m3 * 1_000_000),
        "SOH_QTY": stock,
    }


def shipment_row(
    record: ShipmentRecord, codes: list[str], dates: dict[date, str]
) -> dict[str, Any]:
    day = dates.get(record.ship_on)
    if day is None:
        day = dates[record.ship_on] = ymd(record.ship_on)
    return {
        "DLV_NO": record.note,
        "DLV_LINE": record.line,
        "ITEM_CODE": codes[record.product],
        "SHIP_DT": day,
        "SHIP_QTY": record.quantity,
    }


def activity_rows(
    codes: list[str], week: date, products: list[int], sold: list[int], on_hand: list[int]
) -> list[dict[str, Any]]:
    """One week's product activity (EDI 852 style): cartons sold/used and on hand at its end."""
    day = ymd(week)
    return [
        {"ITEM_CODE": codes[i], "WEEK_START_DT": day, "QTY_SOLD": q, "QTY_ON_HAND": h}
        for i, q, h in zip(products, sold, on_hand, strict=True)
    ]


def order_row(record: OrderRecord, codes: list[str]) -> dict[str, Any]:
    cancelled = record.status is OrderStatus.CANCELLED
    return {
        "ORDER_NO": record.number,
        "ORDER_STAT": ORDER_STATUS_CODES[record.status],
        "ORDER_DT": dmy(record.ordered_on),
        "ETA_DT": None if cancelled else dmy(record.eta),
        "DLV_DT": dmy(record.deliver_on) if record.status is OrderStatus.DELIVERED else None,
        "CUST_REF": record.reference,
        "LINES": [
            {"LINE_NO": n, "ITEM_CODE": codes[i], "ORDER_QTY": q}
            for n, (i, q) in enumerate(record.lines, start=1)
        ],
    }


def event_doc(event: OrderEvent) -> dict[str, Any]:
    """An order event as the ERP pushes it (docs/erp-api.md#order-events)."""
    return {
        "EVENT_ID": event.event_id,
        "EVENT_TYPE": event.event_type,
        "BUS_DT": ymd(event.business_date),
        "CUST_NO": event.customer,
        "ORDER_NO": event.order_number,
        "ORDER_STAT": ORDER_STATUS_CODES[event.status],
        "ETA_DT": dmy(event.eta),
        "DLV_DT": dmy(event.delivered_on),
    }
