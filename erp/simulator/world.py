"""The simulated ERP's state: customers, stock, orders, shipments, submissions and its clock.

All mutations go through `SimWorld` under one re-entrant lock: the HTTP server, the clock job
and tests (from their own thread) may touch the world at the same time.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from erp.simulator.faults import FaultState
from erp.simulator.generator import (
    DEMO_CUSTOMERS,
    PREP_DAYS,
    CustomerSpec,
    DemandProcess,
    GeneratedCustomer,
    OrderRecord,
    ShipmentRecord,
    WeeklyActivity,
    generate_customer,
    order_prefix,
    status_on,
)
from erp.simulator.journal import Journal
from planning.models import (
    CreditStatus,
    CustomerProfile,
    OrderStatus,
    PriceRow,
    Product,
    ProductStatus,
)
from planning.pricing import by_product, line_value

DATASETS = ("items", "shipments", "orders", "activity", "prices")


class UnknownCustomer(KeyError):
    pass


class BusinessRejection(Exception):
    """A rule of the ERP refused an order; `code` is the ERP's error code."""

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SubmittedLine:
    product_code: str
    quantity: int


@dataclass
class Submission:
    """One idempotency key as the ERP saw it: the order it created and how often it was sent."""

    idempotency_key: str
    customer: str
    order_number: str
    fingerprint: str
    received_at: datetime
    business_date: date
    requests: int = 1


ORDER_SHIPPED = "ORDER_SHIPPED"
ETA_CHANGED = "ETA_CHANGED"
ORDER_DELIVERED = "ORDER_DELIVERED"
ORDER_CANCELLED = "ORDER_CANCELLED"


@dataclass(frozen=True)
class OrderEvent:
    """Something that happened to an order placed through the API, for the ERP's pushes."""

    event_id: str
    event_type: str
    customer: str
    order_number: str
    status: OrderStatus
    eta: date | None
    delivered_on: date | None
    business_date: date


class OrderChangeRefused(Exception):
    """An admin change that does not apply to the order as it is (e.g. delay a delivery)."""


@dataclass
class CustomerState:
    profile: CustomerProfile
    products: list[Product]
    stock: NDArray[np.int64]
    process: DemandProcess
    orders: dict[str, OrderRecord]
    shipments: list[ShipmentRecord]
    patterns: dict[str, str]
    activity: WeeklyActivity
    """Cartons consumed and stock left per week, from the history on (the ERP's 852)."""
    prices: list[PriceRow] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    raw_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    api_orders: set[str] = field(default_factory=set)
    """Orders placed through the API: the ones whose events the ERP pushes."""

    def __post_init__(self) -> None:
        self.index = {p.code: i for i, p in enumerate(self.products)}
        self.raw_rows = {name: [] for name in DATASETS}

    @classmethod
    def from_generated(cls, generated: GeneratedCustomer) -> CustomerState:
        return cls(
            profile=generated.profile,
            products=generated.products,
            stock=np.array([p.stock_on_hand or 0 for p in generated.products], dtype=np.int64),
            process=generated.process,
            orders={r.number: r for r in generated.order_records},
            shipments=list(generated.shipment_records),
            patterns=generated.patterns,
            activity=generated.activity.copy(),
            prices=list(generated.prices),
        )

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.products]


@dataclass
class AdvanceReport:
    today: date
    shipped: int = 0
    delivered: int = 0
    cartons_consumed: int = 0
    cartons_delivered: int = 0


def spec_body(spec: CustomerSpec) -> dict[str, Any]:
    """The spec as JSON values (`CustomerSpec(**body)` after `spec_from_body`)."""
    body = asdict(spec)
    body["credit_status"] = spec.credit_status.value
    body["credit_limit"] = None if spec.credit_limit is None else str(spec.credit_limit)
    body["open_balance"] = str(spec.open_balance)
    return body


def spec_from_body(body: dict[str, Any]) -> CustomerSpec:
    limit, balance = body.get("credit_limit"), body.get("open_balance")
    return CustomerSpec(
        **{
            **body,
            "credit_status": CreditStatus(body["credit_status"]),
            "credit_limit": None if limit is None else Decimal(limit),
            "open_balance": Decimal(balance or 0),
        }
    )


def _fingerprint(lines: Iterable[SubmittedLine], reference: str | None) -> str:
    body = json.dumps([[ln.product_code, ln.quantity] for ln in lines] + [reference])
    return hashlib.sha256(body.encode()).hexdigest()


class SimWorld:
    def __init__(self, *, today: date, seed: int = 0) -> None:
        self.start_date = today
        self.today = today
        self.seed = seed
        self.faults = FaultState(seed=seed)
        self.submissions: dict[str, Submission] = {}
        self.outbox: list[OrderEvent] = []
        self.events_emitted = 0
        self.version = 0
        self.lock = threading.RLock()
        self._customers: dict[str, CustomerState] = {}
        self._pending: dict[str, Callable[[], GeneratedCustomer]] = {}
        self.journal: Journal | None = None
        """Where each change is written once it is made (none: the world is forgotten on
        exit). See `erp.simulator.persistence`."""

    def _record(self, kind: str, **body: Any) -> None:
        if self.journal is not None:
            self.journal.append(kind, body)

    @classmethod
    def demo(cls, seed: int, today: date) -> SimWorld:
        """The three pilot customers; each is generated the first time it is asked for."""
        world = cls(today=today, seed=seed)
        for spec in DEMO_CUSTOMERS:
            world.add_spec(spec, seed=seed)
        return world

    # -- customers ---------------------------------------------------------------------------

    def add_spec(self, spec: CustomerSpec, *, seed: int) -> None:
        """Register a generated customer, built lazily as of the world's start date."""
        with self.lock:
            start = self.start_date
            self._pending[spec.code] = lambda: generate_customer(spec, seed=seed, today=start)
            self._customers.pop(spec.code, None)
            self.version += 1
            self._record("add_spec", spec=spec_body(spec), seed=seed)

    def add_generated(self, generated: GeneratedCustomer) -> CustomerState:
        with self.lock:
            state = CustomerState.from_generated(generated)
            self._customers[generated.profile.code] = state
            self._pending.pop(generated.profile.code, None)
            if generated.today < self.today:
                self._advance_customer(
                    state, generated.today, self.today, AdvanceReport(self.today)
                )
            self.version += 1
            return state

    @property
    def customer_codes(self) -> list[str]:
        with self.lock:
            return sorted({*self._customers, *self._pending})

    def customer(self, code: str) -> CustomerState:
        with self.lock:
            state = self._customers.get(code)
            if state is not None:
                return state
            build = self._pending.get(code)
            if build is None:
                raise UnknownCustomer(code)
            state = self.add_generated(build())
            # When a customer is built decides which days are drawn in one go: replay it.
            self._record("materialize", code=code)
            return state

    def set_credit_status(self, code: str, status: CreditStatus) -> None:
        with self.lock:
            state = self.customer(code)
            state.profile = state.profile.model_copy(update={"credit_status": status})
            self.version += 1
            self._record("credit", code=code, status=status.value)

    def set_credit_position(
        self, code: str, limit: Decimal | None, balance: Decimal | None
    ) -> None:
        """The credit limit and open balance the ERP states (None: leave as it is)."""
        with self.lock:
            state = self.customer(code)
            update = {
                k: v
                for k, v in (("credit_limit", limit), ("open_balance", balance))
                if v is not None
            }
            state.profile = state.profile.model_copy(update=update)
            self.version += 1
            self._record(
                "credit_position",
                code=code,
                limit=None if limit is None else str(limit),
                balance=None if balance is None else str(balance),
            )

    def inject_rows(self, code: str, dataset: str, rows: list[dict[str, Any]]) -> int:
        """Append raw ERP-format rows to a listing, as a broken ERP would serve them."""
        if dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, not {dataset!r}")
        with self.lock:
            target = self.customer(code).raw_rows[dataset]
            target.extend(rows)
            self.version += 1
            self._record("rows", code=code, dataset=dataset, rows=rows)
            return len(target)

    def remove_shipments(self, code: str, start: date, end: date) -> int:
        """Lose the shipment history between two dates (inclusive), as a broken ERP might."""
        with self.lock:
            state = self.customer(code)
            before = len(state.shipments)
            state.shipments = [r for r in state.shipments if not start <= r.ship_on <= end]
            self.version += 1
            self._record("gap", code=code, start=start.isoformat(), end=end.isoformat())
            return before - len(state.shipments)

    # -- time --------------------------------------------------------------------------------

    def advance(self, days: int) -> AdvanceReport:
        """Let `days` days pass: stock is consumed, orders ship and arrive."""
        if days < 0:
            raise ValueError("days must not be negative")
        with self.lock:
            start, end = self.today, self.today + timedelta(days=days)
            report = AdvanceReport(today=end)
            for state in self._customers.values():
                self._advance_customer(state, start, end, report)
            self.today = end
            self.version += 1
            self._record("advance", days=days)
            return report

    def _advance_customer(
        self, state: CustomerState, start: date, end: date, report: AdvanceReport
    ) -> None:
        days = (end - start).days
        if days <= 0:
            return
        demand = state.process(start, days)
        live = [
            r
            for r in state.orders.values()
            if r.status in (OrderStatus.APPROVED, OrderStatus.IN_TRANSIT)
        ]
        prefix = order_prefix(state.profile.code)
        for offset in range(days):
            day = start + timedelta(days=offset)
            for record in live:
                if record.ship_on <= day and record.status is OrderStatus.APPROVED:
                    note = f"DN{prefix}-{record.number.rsplit('-', 1)[-1]}"
                    state.shipments.extend(
                        ShipmentRecord(note, n, i, day, q)
                        for n, (i, q) in enumerate(record.lines, start=1)
                    )
                    record.status = OrderStatus.IN_TRANSIT
                    report.shipped += 1
                    self._emit(state, record, ORDER_SHIPPED, day)
                    if record.deliver_on != record.eta:
                        # Once it is on its way the ERP knows when it will really arrive.
                        record.eta = record.deliver_on
                        self._emit(state, record, ETA_CHANGED, day)
                if record.deliver_on <= day and record.status is OrderStatus.IN_TRANSIT:
                    for i, q in record.lines:
                        state.stock[i] += q
                        report.cartons_delivered += q
                    record.status = OrderStatus.DELIVERED
                    report.delivered += 1
                    self._emit(state, record, ORDER_DELIVERED, day)
            used = np.minimum(state.stock, demand[:, offset])
            state.stock -= used
            state.activity.record(day, used, state.stock)
            report.cartons_consumed += int(used.sum())
            live = [r for r in live if r.status is not OrderStatus.DELIVERED]

    # -- order events ------------------------------------------------------------------------

    def _emit(self, state: CustomerState, record: OrderRecord, kind: str, day: date) -> None:
        """Queue an event of an order placed through the API (`outbox`, for the pusher)."""
        if record.number not in state.api_orders:
            return
        self.events_emitted += 1
        digest = hashlib.sha256(
            f"{self.seed}:{state.profile.code}:{record.number}:{self.events_emitted}".encode()
        ).hexdigest()[:20]
        self.outbox.append(
            OrderEvent(
                event_id=f"EV-{digest}",
                event_type=kind,
                customer=state.profile.code,
                order_number=record.number,
                status=record.status,
                eta=None if record.status is OrderStatus.CANCELLED else record.eta,
                delivered_on=record.deliver_on if record.status is OrderStatus.DELIVERED else None,
                business_date=day,
            )
        )

    def take_events(self) -> list[OrderEvent]:
        with self.lock:
            events, self.outbox = self.outbox, []
            return events

    def _open_order(self, code: str, number: str) -> tuple[CustomerState, OrderRecord]:
        state = self.customer(code)
        record = state.orders.get(number)
        if record is None:
            raise KeyError(number)
        if record.status in (OrderStatus.DELIVERED, OrderStatus.CANCELLED):
            raise OrderChangeRefused(f"order {number} is {record.status.value}")
        return state, record

    def delay_order(self, code: str, number: str, days: int) -> OrderRecord:
        """The order will arrive `days` later (earlier if negative); the ERP says so at once."""
        with self.lock:
            state, record = self._open_order(code, number)
            arrival = record.deliver_on + timedelta(days=days)
            if arrival <= max(record.ship_on, self.today):
                raise OrderChangeRefused(f"order {number} cannot arrive by {arrival}")
            record.deliver_on = record.eta = arrival
            self._emit(state, record, ETA_CHANGED, self.today)
            self.version += 1
            self._record("delay", code=code, number=number, days=days)
            return record

    def cancel_order(self, code: str, number: str) -> OrderRecord:
        """Cancel an order that has not shipped yet."""
        with self.lock:
            state, record = self._open_order(code, number)
            if record.status is not OrderStatus.APPROVED:
                raise OrderChangeRefused(f"order {number} has shipped; it cannot be cancelled")
            record.status = OrderStatus.CANCELLED
            self._emit(state, record, ORDER_CANCELLED, self.today)
            self.version += 1
            self._record("cancel", code=code, number=number)
            return record

    # -- orders ------------------------------------------------------------------------------

    def submit(
        self,
        code: str,
        *,
        idempotency_key: str,
        lines: list[SubmittedLine],
        reference: str | None,
        forced_rejection: tuple[str, str] | None = None,
        received_at: datetime | None = None,
    ) -> tuple[OrderRecord, bool]:
        """Create an order once per idempotency key; returns (order, replayed)."""
        received_at = received_at or datetime.now(UTC)
        with self.lock:
            result = self._submit(
                code, idempotency_key, lines, reference, forced_rejection, received_at
            )
            self._record(
                "submit",
                code=code,
                idempotency_key=idempotency_key,
                lines=[[ln.product_code, ln.quantity] for ln in lines],
                reference=reference,
                received_at=received_at.isoformat(),
            )
            return result

    def _submit(
        self,
        code: str,
        idempotency_key: str,
        lines: list[SubmittedLine],
        reference: str | None,
        forced_rejection: tuple[str, str] | None,
        received_at: datetime,
    ) -> tuple[OrderRecord, bool]:
        with self.lock:
            state = self.customer(code)
            fingerprint = _fingerprint(lines, reference)
            seen = self.submissions.get(idempotency_key)
            if seen is not None:
                if seen.customer != code or seen.fingerprint != fingerprint:
                    raise BusinessRejection(
                        "E_IDEMPOTENCY_KEY_REUSED",
                        f"Idempotency-Key {idempotency_key!r} was used for a different order",
                        status=409,
                    )
                seen.requests += 1
                return state.orders[seen.order_number], True
            if forced_rejection is not None:
                raise BusinessRejection(*forced_rejection)
            resolved = self._check_order(state, lines)
            record = self._create_order(state, resolved, reference or idempotency_key)
            state.api_orders.add(record.number)
            self.submissions[idempotency_key] = Submission(
                idempotency_key=idempotency_key,
                customer=code,
                order_number=record.number,
                fingerprint=fingerprint,
                received_at=received_at,
                business_date=self.today,
            )
            self.version += 1
            return record, False

    def _check_credit(self, state: CustomerState, lines: list[SubmittedLine]) -> None:
        """An order worth more than the credit left is refused, as an ERP's credit check
        does (lines without a price count nothing)."""
        available = state.profile.available_credit
        if available is None:
            return
        prices = by_product(state.prices)
        value = Decimal(0)
        for line in lines:
            priced = line_value(prices, line.product_code, line.quantity, self.today)
            if priced is not None:
                value += priced[0]
        if value > available:
            raise BusinessRejection(
                "E_CREDIT_LIMIT",
                f"order value {value:.2f} exceeds the credit available ({available:.2f})",
            )

    def _check_order(
        self, state: CustomerState, lines: list[SubmittedLine]
    ) -> list[tuple[int, int]]:
        if state.profile.credit_status is CreditStatus.HOLD:
            raise BusinessRejection(
                "E_CREDIT_HOLD", f"customer {state.profile.code} is on credit hold"
            )
        if not lines:
            raise BusinessRejection("E_NO_LINES", "an order needs at least one line")
        self._check_credit(state, lines)
        resolved: list[tuple[int, int]] = []
        seen: set[int] = set()
        for n, line in enumerate(lines, start=1):
            i = state.index.get(line.product_code)
            if i is None:
                raise BusinessRejection(
                    "E_ITEM_UNKNOWN", f"line {n}: item {line.product_code} unknown"
                )
            product = state.products[i]
            if i in seen:
                raise BusinessRejection("E_ITEM_DUPLICATE", f"line {n}: item {product.code} twice")
            if product.status is ProductStatus.DISCONTINUED:
                raise BusinessRejection(
                    "E_ITEM_DISCONTINUED", f"line {n}: item {product.code} is discontinued"
                )
            if line.quantity <= 0 or line.quantity % product.pack_size:
                raise BusinessRejection(
                    "E_QTY_PACK",
                    f"line {n}: quantity {line.quantity} of {product.code} is not a positive "
                    f"multiple of pack size {product.pack_size}",
                )
            if line.quantity < product.moq:
                raise BusinessRejection(
                    "E_QTY_MOQ",
                    f"line {n}: quantity {line.quantity} of {product.code} "
                    f"is below MOQ {product.moq}",
                )
            seen.add(i)
            resolved.append((i, line.quantity))
        return resolved

    def _create_order(
        self, state: CustomerState, lines: list[tuple[int, int]], reference: str
    ) -> OrderRecord:
        """The promised ETA is ordered + lead time; the delivery slips by the customer's
        lateness, drawn per order from the generator's seed (none unless lateness is set)."""
        lead = timedelta(weeks=state.profile.lead_time_weeks)
        serial = len(state.orders) + 1
        number = f"SO{order_prefix(state.profile.code)}-{serial:06d}"
        process = state.process
        slip = process.lateness.delay_days(process.seed, state.profile.code, serial)
        record = OrderRecord(
            number=number,
            status=OrderStatus.APPROVED,
            ordered_on=self.today,
            ship_on=self.today + timedelta(days=PREP_DAYS),
            eta=self.today + lead,
            deliver_on=self.today + lead + timedelta(days=slip),
            lines=lines,
            reference=reference,
        )
        state.orders[number] = record
        record.status = status_on(record, self.today)
        return record
