"""The admin API (`/admin`, its own key): faults, the clock, submissions, test data."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from erp.simulator.api import ErpHttpError, world_of
from erp.simulator.faults import FaultConfig, FaultStatus
from erp.simulator.generator import CustomerSpec
from erp.simulator.traffic import TrafficMeter, TrafficReport
from erp.simulator.webhooks import WebhookPusher
from erp.simulator.world import OrderChangeRefused, SimWorld, UnknownCustomer
from planning.models import CreditStatus


def require_admin_key(
    request: Request, x_admin_key: Annotated[str | None, Header(alias="X-Admin-Key")] = None
) -> None:
    if x_admin_key != request.app.state.admin_key:
        raise ErpHttpError(401, "E_AUTH", "missing or wrong X-Admin-Key")


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin_key)])
World = Annotated[SimWorld, Depends(world_of)]


class AdminModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorldState(AdminModel):
    business_date: date
    start_date: date
    seed: int
    customers: list[str]
    faults: FaultStatus
    submissions: int


class AdvanceRequest(AdminModel):
    days: int = Field(ge=0, le=3_650)


class AdvanceResult(AdminModel):
    business_date: date
    orders_shipped: int
    orders_delivered: int
    cartons_consumed: int
    cartons_delivered: int


class SubmissionView(AdminModel):
    idempotency_key: str
    customer: str
    order_number: str
    business_date: date
    received_at: datetime
    requests: int = Field(description="How many times this key was sent (replays included)")


class CustomerCreate(AdminModel):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = "Test Customer"
    n_products: int = Field(default=20, ge=1, le=20_000)
    seed: int = 0
    monthly_cartons: float = Field(default=10_000, gt=0)
    lead_time_weeks: int = Field(default=6, ge=1, le=52)
    container_capacity_cartons: int = Field(default=20_000, gt=0)
    credit_status: CreditStatus = CreditStatus.OK


class CustomerPatch(AdminModel):
    credit_status: CreditStatus | None = None
    credit_limit: Decimal | None = Field(default=None, ge=0)
    open_balance: Decimal | None = None


class GapRequest(AdminModel):
    start: date
    end: date


class GapMade(AdminModel):
    shipments_removed: int


class RowsAdded(AdminModel):
    dataset: str
    injected_total: int


@router.get("/state", response_model=WorldState)
def state(world: World) -> WorldState:
    with world.lock:
        return WorldState(
            business_date=world.today,
            start_date=world.start_date,
            seed=world.seed,
            customers=world.customer_codes,
            faults=world.faults.status(),
            submissions=len(world.submissions),
        )


@router.get("/faults", response_model=FaultStatus)
def get_faults(world: World) -> FaultStatus:
    return world.faults.status()


@router.put("/faults", response_model=FaultStatus, summary="Replace the fault configuration")
def put_faults(world: World, config: FaultConfig) -> FaultStatus:
    world.faults.set(config)
    return world.faults.status()


@router.delete("/faults", response_model=FaultStatus, summary="Clear every fault")
def clear_faults(world: World) -> FaultStatus:
    world.faults.reset()
    return world.faults.status()


def traffic_meter(request: Request) -> TrafficMeter:
    meter: TrafficMeter = request.app.state.traffic
    return meter


Traffic = Annotated[TrafficMeter, Depends(traffic_meter)]


@router.get(
    "/traffic",
    response_model=TrafficReport,
    summary="ERP API requests per second and at once, since the meter was reset",
)
def get_traffic(meter: Traffic) -> TrafficReport:
    return meter.report()


@router.delete("/traffic", status_code=204, summary="Reset the traffic meter")
def reset_traffic(meter: Traffic) -> None:
    meter.reset()


@router.post("/clock/advance", response_model=AdvanceResult)
def advance(world: World, body: AdvanceRequest) -> AdvanceResult:
    report = world.advance(body.days)
    return AdvanceResult(
        business_date=report.today,
        orders_shipped=report.shipped,
        orders_delivered=report.delivered,
        cartons_consumed=report.cartons_consumed,
        cartons_delivered=report.cartons_delivered,
    )


@router.get("/submissions", response_model=list[SubmissionView])
def submissions(world: World, customer: str | None = None) -> list[SubmissionView]:
    with world.lock:
        return [
            SubmissionView(
                idempotency_key=s.idempotency_key,
                customer=s.customer,
                order_number=s.order_number,
                business_date=s.business_date,
                received_at=s.received_at,
                requests=s.requests,
            )
            for s in world.submissions.values()
            if customer is None or s.customer == customer
        ]


@router.post("/customers", status_code=201, response_model=WorldState)
def create_customer(world: World, body: CustomerCreate) -> WorldState:
    """Add a generated customer (for tests that need data of their own)."""
    spec = CustomerSpec(
        code=body.code,
        name=body.name,
        n_products=body.n_products,
        monthly_cartons=body.monthly_cartons,
        lead_time_weeks=body.lead_time_weeks,
        container_capacity_cartons=body.container_capacity_cartons,
        credit_status=body.credit_status,
    )
    world.add_spec(spec, seed=body.seed)
    return state(world)


@router.patch("/customers/{code}", status_code=204)
def patch_customer(world: World, code: str, body: CustomerPatch) -> None:
    try:
        if body.credit_status is not None:
            world.set_credit_status(code, body.credit_status)
        if body.credit_limit is not None or body.open_balance is not None:
            world.set_credit_position(code, body.credit_limit, body.open_balance)
    except UnknownCustomer:
        raise ErpHttpError(404, "E_NOT_FOUND", f"customer {code} not found") from None


@router.post("/customers/{code}/rows/{dataset}", response_model=RowsAdded)
def inject_rows(
    world: World,
    code: str,
    dataset: Literal["items", "shipments", "orders", "activity", "prices"],
    rows: list[dict[str, Any]],
) -> RowsAdded:
    """Append raw rows (ERP field names, any values) to a listing, as a broken ERP would."""
    try:
        total = world.inject_rows(code, dataset, rows)
    except UnknownCustomer:
        raise ErpHttpError(404, "E_NOT_FOUND", f"customer {code} not found") from None
    return RowsAdded(dataset=dataset, injected_total=total)


@router.post("/customers/{code}/gap", response_model=GapMade)
def make_gap(world: World, code: str, body: GapRequest) -> GapMade:
    """Delete the shipment history between two dates, to test gap detection."""
    try:
        removed = world.remove_shipments(code, body.start, body.end)
    except UnknownCustomer:
        raise ErpHttpError(404, "E_NOT_FOUND", f"customer {code} not found") from None
    return GapMade(shipments_removed=removed)


class OrderDelay(AdminModel):
    days: int = Field(ge=-365, le=365, description="Days later (negative: earlier)")


class OrderChanged(AdminModel):
    order_number: str
    status: str
    eta: date | None
    deliver_on: date


def _order_change(world: SimWorld, code: str, number: str, change: str, days: int = 0) -> Any:
    try:
        if change == "delay":
            return world.delay_order(code, number, days)
        return world.cancel_order(code, number)
    except UnknownCustomer:
        raise ErpHttpError(404, "E_NOT_FOUND", f"customer {code} not found") from None
    except KeyError:
        raise ErpHttpError(404, "E_NOT_FOUND", f"order {number} not found for {code}") from None
    except OrderChangeRefused as exc:
        raise ErpHttpError(409, "E_ORDER_STATE", str(exc)) from None


def _changed(record: Any) -> OrderChanged:
    return OrderChanged(
        order_number=record.number,
        status=record.status.value,
        eta=record.eta,
        deliver_on=record.deliver_on,
    )


@router.post("/customers/{code}/orders/{number}/delay", response_model=OrderChanged)
def delay_order(world: World, code: str, number: str, body: OrderDelay) -> OrderChanged:
    """Move an open order's arrival (and its ETA, which the ERP announces at once)."""
    return _changed(_order_change(world, code, number, "delay", body.days))


@router.post("/customers/{code}/orders/{number}/cancel", response_model=OrderChanged)
def cancel_order(world: World, code: str, number: str) -> OrderChanged:
    """Cancel an order that has not shipped."""
    return _changed(_order_change(world, code, number, "cancel"))


class DeliveryView(AdminModel):
    event_id: str
    event_type: str
    order_number: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None


class Webhooks(AdminModel):
    url: str | None
    deliveries: list[DeliveryView]


def _pusher(request: Request) -> WebhookPusher:
    pusher: WebhookPusher | None = request.app.state.pusher
    if pusher is None:
        raise ErpHttpError(409, "E_NO_WEBHOOK", "no webhook URL is configured")
    return pusher


@router.get("/webhooks", response_model=Webhooks)
def webhooks(request: Request) -> Webhooks:
    """Every push and how it went."""
    pusher: WebhookPusher | None = request.app.state.pusher
    if pusher is None:
        return Webhooks(url=None, deliveries=[])
    return Webhooks(
        url=pusher.url,
        deliveries=[
            DeliveryView(
                event_id=d.event.event_id,
                event_type=d.event.event_type,
                order_number=d.event.order_number,
                status=d.status,
                attempts=d.attempts,
                last_status_code=d.last_status_code,
                last_error=d.last_error,
            )
            for d in pusher.deliveries.values()
        ],
    )


class Redelivered(AdminModel):
    event_id: str
    status_code: int | None


@router.post("/webhooks/{event_id}/redeliver", response_model=Redelivered)
async def redeliver(request: Request, event_id: str) -> Redelivered:
    """Push an event again, as an ERP that did not hear the answer would."""
    pusher = _pusher(request)
    if event_id not in pusher.deliveries:
        raise ErpHttpError(404, "E_NOT_FOUND", f"no push {event_id}")
    return Redelivered(event_id=event_id, status_code=await pusher.redeliver(event_id))
