"""The ERP's public REST API (`/api/v1`), as a customer integration would call it."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response

from erp.simulator.erp_format import STATUS_BY_CODE, customer_doc, order_row, parse_ymd, ymd
from erp.simulator.faults import NO_FAULT, FaultDecision
from erp.simulator.listings import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Listings
from erp.simulator.schemas import (
    ActivityPage,
    CustomerDoc,
    ErpError,
    ItemPage,
    OrderAck,
    OrderDoc,
    OrderPage,
    OrderRequest,
    PingDoc,
    PricePage,
    ShipmentPage,
)
from erp.simulator.world import BusinessRejection, SimWorld, SubmittedLine, UnknownCustomer
from planning.models import OrderStatus

JSON = "application/json"


class ErpHttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def world_of(request: Request) -> SimWorld:
    world: SimWorld = request.app.state.world
    return world


def listings_of(request: Request) -> Listings:
    listings: Listings = request.app.state.listings
    return listings


def require_api_key(
    request: Request, x_api_key: Annotated[str | None, Header(alias="X-Api-Key")] = None
) -> None:
    if x_api_key != request.app.state.api_key:
        raise ErpHttpError(401, "E_AUTH", "missing or wrong X-Api-Key")


World = Annotated[SimWorld, Depends(world_of)]
Pages = Annotated[Listings, Depends(listings_of)]
CustNo = Annotated[str, Path(description="Customer number (CUST_NO)")]
PageNo = Annotated[int, Query(alias="PAGE_NO", ge=1, description="1-based page number")]
PageSize = Annotated[int, Query(alias="PAGE_SIZE", ge=1, le=MAX_PAGE_SIZE)]
FromDate = Annotated[
    str | None, Query(alias="FROM_DATE", pattern=r"^\d{8}$", description="YYYYMMDD, inclusive")
]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErpError, "description": "Bad parameters (E_BAD_REQUEST)"},
    401: {"model": ErpError, "description": "Missing or wrong API key (E_AUTH)"},
    404: {"model": ErpError, "description": "Unknown customer or order (E_NOT_FOUND)"},
    429: {"model": ErpError, "description": "Rate limited; see Retry-After (E_RATE_LIMIT)"},
    503: {"model": ErpError, "description": "Maintenance or outage; see Retry-After"},
}

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_api_key)], responses=ERRORS)


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def _known(world: SimWorld, cust_no: str) -> None:
    try:
        world.customer(cust_no)
    except UnknownCustomer:
        raise ErpHttpError(404, "E_NOT_FOUND", f"customer {cust_no} not found") from None


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_ymd(text)
    except ValueError:
        raise ErpHttpError(400, "E_BAD_REQUEST", f"FROM_DATE {text!r} is not a date") from None


@router.get("/ping", response_model=PingDoc, summary="Health check")
def ping(world: World) -> Response:
    return _json({"STATUS": "UP", "AS_OF_DT": ymd(world.today)})


@router.get("/customers/{cust_no}", response_model=CustomerDoc, summary="Customer master data")
def get_customer(world: World, cust_no: CustNo) -> Response:
    _known(world, cust_no)
    with world.lock:
        return _json(customer_doc(world.customer(cust_no).profile, world.today))


@router.get(
    "/customers/{cust_no}/items", response_model=ItemPage, summary="Items with stock on hand"
)
def list_items(
    world: World,
    pages: Pages,
    cust_no: CustNo,
    page: PageNo = 1,
    size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    _known(world, cust_no)
    return Response(pages.page(cust_no, "items", (), page, size), media_type=JSON)


@router.get(
    "/customers/{cust_no}/shipments",
    response_model=ShipmentPage,
    summary="Delivery-note lines, oldest first",
)
def list_shipments(
    world: World,
    pages: Pages,
    cust_no: CustNo,
    from_date: FromDate = None,
    to_date: Annotated[str | None, Query(alias="TO_DATE", pattern=r"^\d{8}$")] = None,
    page: PageNo = 1,
    size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    _known(world, cust_no)
    filters = (_date(from_date), _date(to_date))
    return Response(pages.page(cust_no, "shipments", filters, page, size), media_type=JSON)


@router.get(
    "/customers/{cust_no}/activity",
    response_model=ActivityPage,
    summary="Product activity per week (EDI 852 style): cartons sold and on hand",
)
def list_activity(
    world: World,
    pages: Pages,
    cust_no: CustNo,
    from_date: Annotated[
        str | None,
        Query(
            alias="FROM_DATE",
            pattern=r"^\d{8}$",
            description="YYYYMMDD: weeks starting on or after this day",
        ),
    ] = None,
    page: PageNo = 1,
    size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    """Complete weeks (Monday to Sunday, all seven days before the business date), oldest
    first. A week listed for any item is reported for every item: an item missing from it
    sold nothing and its stock did not change."""
    _known(world, cust_no)
    filters = (_date(from_date),)
    return Response(pages.page(cust_no, "activity", filters, page, size), media_type=JSON)


@router.get(
    "/customers/{cust_no}/prices",
    response_model=PricePage,
    summary="The customer's price list: per carton, by validity and quantity break",
)
def list_prices(
    world: World,
    pages: Pages,
    cust_no: CustNo,
    page: PageNo = 1,
    size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    """Every row, past and future ones too: a price applies from VALID_FROM to VALID_TO
    (included) to an order line of at least MIN_QTY cartons."""
    _known(world, cust_no)
    return Response(pages.page(cust_no, "prices", (), page, size), media_type=JSON)


@router.get(
    "/customers/{cust_no}/orders/open",
    response_model=OrderPage,
    summary="Approved orders not yet shipped",
)
def list_open_orders(
    world: World,
    pages: Pages,
    cust_no: CustNo,
    page: PageNo = 1,
    size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    _known(world, cust_no)
    return Response(pages.page(cust_no, "open_orders", (), page, size), media_type=JSON)


@router.get(
    "/customers/{cust_no}/orders", response_model=OrderPage, summary="Order history with status"
)
def list_orders(
    world: World,
    pages: Pages,
    cust_no: CustNo,
    from_date: FromDate = None,
    status: Annotated[
        str | None, Query(alias="STATUS", description="Comma-separated: APPR,INTR,DLVD,CANC")
    ] = None,
    page: PageNo = 1,
    size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    _known(world, cust_no)
    statuses: frozenset[OrderStatus] | None = None
    if status:
        try:
            statuses = frozenset(STATUS_BY_CODE[s.strip()] for s in status.split(","))
        except KeyError as exc:
            raise ErpHttpError(400, "E_BAD_REQUEST", f"unknown STATUS {exc.args[0]!r}") from None
    filters = (_date(from_date), statuses)
    return Response(pages.page(cust_no, "orders", filters, page, size), media_type=JSON)


@router.get("/customers/{cust_no}/orders/{order_no}", response_model=OrderDoc, summary="One order")
def get_order(world: World, cust_no: CustNo, order_no: str) -> Response:
    _known(world, cust_no)
    with world.lock:
        state = world.customer(cust_no)
        record = state.orders.get(order_no)
        if record is None:
            raise ErpHttpError(404, "E_NOT_FOUND", f"order {order_no} not found for {cust_no}")
        return _json(order_row(record, state.codes))


@router.post(
    "/customers/{cust_no}/orders",
    response_model=OrderAck,
    status_code=201,
    summary="Submit an order (idempotent per Idempotency-Key)",
    responses={
        200: {"model": OrderAck, "description": "Replay of an earlier submission"},
        409: {"model": ErpError, "description": "Idempotency-Key reused for another order"},
        422: {"model": ErpError, "description": "Business rejection, with ERP error code"},
    },
)
def submit_order(
    request: Request,
    world: World,
    cust_no: CustNo,
    body: OrderRequest,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128)],
) -> Response:
    _known(world, cust_no)
    fault: FaultDecision = getattr(request.state, "fault", NO_FAULT)
    lines = [SubmittedLine(ln.ITEM_CODE, ln.ORDER_QTY) for ln in body.LINES]
    try:
        record, replayed = world.submit(
            cust_no,
            idempotency_key=idempotency_key,
            lines=lines,
            reference=body.CUST_REF,
            forced_rejection=fault.rejection,
        )
    except BusinessRejection as exc:
        raise ErpHttpError(exc.status, exc.code, exc.message) from None
    with world.lock:
        payload = order_row(record, world.customer(cust_no).codes)
    headers = {"Idempotent-Replayed": "true" if replayed else "false"}
    return _json(payload, status=200 if replayed else 201, headers=headers)
