"""The simulated ERP's payloads, declared for its OpenAPI document and for request bodies.

Field names are the ERP's own. Responses are rendered directly (see `erp_format`) for speed;
these models describe them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErpModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErpError(ErpModel):
    ERR_CD: str = Field(description="ERP error code, e.g. E_CREDIT_HOLD")
    ERR_MSG: str


class ContactDoc(ErpModel):
    CONTACT_NAME: str
    EMAIL_ADDR: str
    ROLE_CD: str = Field(description="BUY (buyer) or PLN (planner)")


class CustomerDoc(ErpModel):
    CUST_NO: str
    CUST_NAME: str
    CREDIT_STAT: str = Field(description="OK or HOLD")
    LEAD_TIME_WKS: int
    CNTR_CAP_CTN: int = Field(description="Container capacity in cartons")
    TZ: str = Field(description="IANA time zone")
    CONTACTS: list[ContactDoc]
    CURR_CD: str | None = Field(default=None, description="The account's currency (ISO 4217)")
    CREDIT_LIMIT: str | None = Field(default=None, description="Decimal text; none: no limit")
    OPEN_BAL: str | None = Field(default=None, description="Owed now, decimal text")
    PAY_TERMS: str | None = None
    AS_OF_DT: str = Field(description="The ERP's business date, YYYYMMDD")


class PingDoc(ErpModel):
    STATUS: str
    AS_OF_DT: str


class ItemRow(ErpModel):
    ITEM_CODE: str
    ITEM_DESC: str
    PACK_QTY: int = Field(description="Cartons per orderable pack")
    MOQ_QTY: int = Field(description="Minimum order quantity in cartons; 0 = none")
    ITEM_STAT: str = Field(description="A (active) or D (discontinued)")
    GROSS_WT_G: int | None = Field(description="Gross carton weight in grams")
    CTN_VOL_CM3: int | None = Field(description="Carton volume in cm³")
    SOH_QTY: int = Field(description="Cartons on hand at the customer")


class ShipmentRow(ErpModel):
    DLV_NO: str = Field(description="Delivery note number")
    DLV_LINE: int
    ITEM_CODE: str
    SHIP_DT: str = Field(description="Ship date, YYYYMMDD")
    SHIP_QTY: int = Field(description="Cartons")


class ActivityRow(ErpModel):
    ITEM_CODE: str
    WEEK_START_DT: str = Field(description="Monday the week starts on, YYYYMMDD")
    QTY_SOLD: int = Field(description="Cartons sold/used by the customer in the week")
    QTY_ON_HAND: int = Field(description="Cartons on hand at the end of the week (Sunday)")


class OrderLineDoc(ErpModel):
    LINE_NO: int
    ITEM_CODE: str
    ORDER_QTY: int


class OrderDoc(ErpModel):
    ORDER_NO: str
    ORDER_STAT: str = Field(description="APPR, INTR (in transit), DLVD or CANC")
    ORDER_DT: str = Field(description="DD.MM.YYYY")
    ETA_DT: str | None = Field(description="DD.MM.YYYY")
    DLV_DT: str | None = Field(description="DD.MM.YYYY, once delivered")
    CUST_REF: str | None
    LINES: list[OrderLineDoc]


class PageEnvelope(ErpModel):
    PAGE_NO: int
    PAGE_SIZE: int
    TOTAL_PAGES: int
    TOTAL_ROWS: int
    AS_OF_DT: str


class ItemPage(PageEnvelope):
    ROWS: list[ItemRow]


class ShipmentPage(PageEnvelope):
    ROWS: list[ShipmentRow]


class ActivityPage(PageEnvelope):
    ROWS: list[ActivityRow]


class PriceRowDoc(ErpModel):
    ITEM_CODE: str
    CURR_CD: str
    UNIT_PRICE: str = Field(description="Per carton, decimal text")
    VALID_FROM: str = Field(description="YYYYMMDD")
    VALID_TO: str | None = Field(default=None, description="YYYYMMDD, included; none: open")
    MIN_QTY: int = Field(description="Cartons on the order line from which it applies")


class PricePage(PageEnvelope):
    ROWS: list[PriceRowDoc]


class OrderPage(PageEnvelope):
    ROWS: list[OrderDoc]


class OrderRequestLine(ErpModel):
    ITEM_CODE: str = Field(min_length=1)
    ORDER_QTY: int


class OrderRequest(ErpModel):
    CUST_REF: str | None = Field(default=None, max_length=64)
    LINES: list[OrderRequestLine]


class OrderAck(OrderDoc):
    pass
