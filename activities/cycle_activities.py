"""Every side effect a ReorderCycle needs, as activity methods with their dependencies.

Each activity is idempotent, so Temporal may run it more than once: store writes look up
what an earlier attempt wrote, and ERP submissions carry an idempotency key the ERP enforces.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.cycle_models import (
    FINAL_STATUSES,
    ApprovalOutcome,
    ApprovalRecord,
    ApproveAndSubmit,
    CloseOrdersRequest,
    ContainerView,
    CycleRecord,
    CycleStatus,
    FirstSubmission,
    LineView,
    NotifyRequest,
    PlannedOrder,
    RecommendationView,
    RecommendRequest,
    RejectRecord,
    SubmitRequest,
    SubmittedOrder,
    SyncRequest,
    SyncSummary,
    TrackedOrder,
    TrackRequest,
)
from activities.heartbeat import heartbeating
from activities.notifier import Message, Notifier
from core.settings import Settings
from erp.client import ErpClient
from erp.errors import ErpBadData, ErpError, ErpRejected, ErpUnavailable
from erp.models import OrderSubmission, SubmissionReceipt
from planning.models import OrderLine
from planning.models import OrderStatus as ErpOrderStatus
from planning.packing import repack
from planning.schemas import Line
from planning.settings import PlanSettings
from services.customer_settings import plan_settings
from services.recommend import recommend, to_version
from services.schemas import RecommendationVersion
from services.sync import sync_customer
from store import audit, cycles, snapshots
from store import customer_settings as settings_repo
from store import orders as orders_repo
from store import recommendations as recommendations_repo
from store.db import reading, unit_of_work
from store.models import Customer, Order, OrderSource, OrderStatus, RecommendationStatus

MAX_ERP_REFERENCE = 64

ERP_TO_ORDER_STATUS = {
    ErpOrderStatus.APPROVED: OrderStatus.SUBMITTED,
    ErpOrderStatus.IN_TRANSIT: OrderStatus.IN_TRANSIT,
    ErpOrderStatus.DELIVERED: OrderStatus.DELIVERED,
    ErpOrderStatus.CANCELLED: OrderStatus.CANCELLED,
}


def idempotency_key(workflow_id: str, run_id: str, version: int, container_index: int) -> str:
    """Unique to one cycle run's container, so a retried or duplicated submission replays
    the same ERP order; the run's digest keeps keys apart when workflow ids or versions
    repeat (a customer's next cycle, a rebuilt database) and keeps the key short."""
    run = hashlib.sha256(run_id.encode()).hexdigest()[:12]
    return f"{workflow_id}:{run}:v{version}:c{container_index}"


def erp_reference(key: str) -> str:
    """Our reference on the ERP order: the key itself, or its digest when the ERP's
    reference field (64 characters) is too short for it."""
    if len(key) <= MAX_ERP_REFERENCE:
        return key
    return "restock-" + hashlib.sha256(key.encode()).hexdigest()[: MAX_ERP_REFERENCE - 8]


class CycleActivities:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        erp: ErpClient,
        notifier: Notifier,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._erp = erp
        self._notifier = notifier

    # --- sync and plan ----------------------------------------------------------------------

    @activity.defn(name="sync_customer")
    async def sync_customer(self, request: SyncRequest) -> SyncSummary:
        try:
            async with heartbeating():
                result = await sync_customer(
                    self._sessions,
                    self._erp,
                    request.customer_id,
                    actor=f"cycle:{request.workflow_id}",
                )
        except ErpError as err:
            raise _as_application_error(err) from err
        return SyncSummary(
            products=result.products,
            shipments=result.shipments,
            orders=result.orders,
            rejected_rows=result.data_quality_issues,
            synced_at=result.synced_at,
        )

    @activity.defn(name="recommend")
    async def recommend(self, request: RecommendRequest) -> RecommendationView:
        async with heartbeating():
            version = await recommend(
                self._sessions, request.customer_id, actor=f"cycle:{request.workflow_id}"
            )
        return recommendation_view(version)

    # --- read model, audit, notifications ---------------------------------------------------

    @activity.defn(name="record_cycle")
    async def record_cycle(self, record: CycleRecord) -> None:
        async with unit_of_work(self._sessions) as session:
            await _record_cycle(session, record)

    @activity.defn(name="notify")
    async def notify(self, request: NotifyRequest) -> None:
        if request.to_ops:
            recipients = [self._settings.ops_email]
        else:
            recipients = await self._customer_recipients(request.customer_id)
        if not recipients:
            activity.logger.warning("no recipients for customer %s", request.customer_id)
            return
        portal = f"http://{self._settings.api_host}:{self._settings.api_port}"
        body = f"{request.body}\n\nOpen the portal: {portal}/customers/{request.customer_id}"
        await self._notifier.send(Message(to=recipients, subject=request.subject, body=body))

    async def _customer_recipients(self, customer_id: int) -> list[str]:
        async with reading(self._sessions) as session:
            snapshot = await snapshots.get_snapshot(session, customer_id)
        contacts = (snapshot.profile or {}).get("contacts", []) if snapshot else []
        return [c["email"] for c in contacts if c.get("email")]

    # --- decisions --------------------------------------------------------------------------

    @activity.defn(name="record_approval")
    async def record_approval(self, record: ApprovalRecord) -> list[PlannedOrder]:
        """Turn the approved containers (with any edits, re-packed) into orders; idempotent by
        the orders' idempotency keys."""
        planned, _ = await self._record_approval(record)
        return planned

    @activity.defn(name="approve_and_submit")
    async def approve_and_submit(self, request: ApproveAndSubmit) -> ApprovalOutcome:
        """`record_approval`, then one attempt per container at the ERP (concurrently, each
        within `attempt_timeout`), and one transaction for what the ERP answered, with the
        cycle's new status (`cycle`).

        The cycle runs this as its approval's local activity, so the ERP holds the order one
        database transaction after the approval reached the worker. Idempotent like its
        parts: the orders by their keys, and the ERP replays a key it already has.
        """
        approval = request.approval
        planned, erp_code = await self._record_approval(approval)
        attempts = await asyncio.gather(
            *(self._first_attempt(erp_code, p, request.attempt_timeout) for p in planned)
        )
        async with unit_of_work(self._sessions) as session:
            orders = await orders_repo.get_orders(
                session, approval.customer_id, [p.order_id for p in planned]
            )
            for p, (receipt, outcome) in zip(planned, attempts, strict=True):
                order = orders[p.order_id]
                if receipt is not None:
                    await _record_submitted(session, order, p.idempotency_key, receipt)
                elif outcome.rejected:
                    reason = outcome.failure or "rejected by the ERP"
                    await _record_rejected(session, order, p.idempotency_key, reason)
            if request.cycle is not None:
                await _record_cycle(session, request.cycle)
        return ApprovalOutcome(planned=planned, submissions=[outcome for _, outcome in attempts])

    async def _first_attempt(
        self, erp_code: str, planned: PlannedOrder, within: timedelta
    ) -> tuple[SubmissionReceipt | None, FirstSubmission]:
        submission = OrderSubmission(
            lines=[OrderLine(product_code=code, quantity=qty) for code, qty in planned.lines],
            reference=erp_reference(planned.idempotency_key),
        )
        order_id = planned.order_id
        try:
            async with asyncio.timeout(within.total_seconds()):
                receipt = await self._erp.submit_order(
                    erp_code, submission, planned.idempotency_key
                )
        except TimeoutError:
            failure = f"no answer from the ERP within {within.total_seconds():g} s"
            return None, FirstSubmission(order_id=order_id, failure=failure)
        except (ErpRejected, ErpBadData) as err:
            return None, FirstSubmission(order_id=order_id, failure=str(err), rejected=True)
        except Exception as err:  # anything else: the retried submit_order activity decides
            failure = str(err) or type(err).__name__
            return None, FirstSubmission(order_id=order_id, failure=failure)
        first = FirstSubmission(
            order_id=order_id, erp_order_number=receipt.order_number, eta=receipt.eta
        )
        return receipt, first

    async def _record_approval(self, record: ApprovalRecord) -> tuple[list[PlannedOrder], str]:
        """The approval's orders, and the customer's ERP code."""
        run_id = record.run_id
        async with unit_of_work(self._sessions) as session:
            customer = await session.get(Customer, record.customer_id)
            if customer is None:
                raise ApplicationError(
                    f"customer {record.customer_id} not found", non_retryable=True
                )
            existing = await _planned_orders(session, record, run_id)
            if existing:
                return existing, customer.erp_code
            # Containers only: a large customer's lines and explanations are needed (and
            # loaded) only to re-pack edited quantities.
            rec = await recommendations_repo.get_header(session, record.customer_id, record.version)
            if rec is None:
                raise ApplicationError(
                    f"recommendation v{record.version} not found", non_retryable=True
                )
            chosen = set(record.containers)
            containers = [
                (c.index, [(line["product_code"], int(line["quantity"])) for line in c.lines])
                for c in rec.containers
                if c.index in chosen
            ]
            if record.edits:
                full = await recommendations_repo.get_version(
                    session, record.customer_id, record.version
                )
                assert full is not None
                settings_row = await settings_repo.get_or_create(session, record.customer_id)
                containers = _repacked(to_version(full), record, plan_settings(settings_row))
            today = datetime.now(UTC).date()
            created: list[tuple[int, Order]] = []
            for index, lines in containers:
                key = idempotency_key(record.workflow_id, run_id, record.version, index)
                order = await orders_repo.create_order(
                    session,
                    customer_id=record.customer_id,
                    status=OrderStatus.APPROVED,
                    source=OrderSource.RESTOCK,
                    ordered_on=today,
                    lines=[{"product_code": code, "quantity": qty} for code, qty in lines],
                    actor=record.actor,
                    idempotency_key=key,
                    recommendation_id=rec.id,
                    recommendation_version=record.version,
                    note="approved automatically by policy" if record.auto else None,
                    flush=False,
                )
                created.append((index, order))
            recommendations_repo.mark_decided(
                rec, RecommendationStatus.APPROVED, decided_by=record.actor, at=datetime.now(UTC)
            )
            await session.flush()
            planned = [_planned(order, index) for index, order in created]
            await audit.append(
                session,
                actor=record.actor,
                action="recommendation.auto_approved" if record.auto else "recommendation.approved",
                customer_id=record.customer_id,
                target_type="recommendation",
                target_id=record.version,
                details={
                    "containers": record.containers,
                    "edits": record.edits,
                    "orders": [p.order_id for p in planned],
                    "workflow_id": record.workflow_id,
                },
            )
            return planned, customer.erp_code

    @activity.defn(name="record_rejection")
    async def record_rejection(self, record: RejectRecord) -> None:
        async with unit_of_work(self._sessions) as session:
            await recommendations_repo.decide(
                session,
                record.customer_id,
                record.version,
                RecommendationStatus.REJECTED,
                decided_by=record.actor,
                at=datetime.now(UTC),
            )
            await audit.append(
                session,
                actor=record.actor,
                action="recommendation.rejected",
                customer_id=record.customer_id,
                target_type="recommendation",
                target_id=record.version,
                details={"reason": record.reason, "workflow_id": record.workflow_id},
            )

    # --- the ERP order ----------------------------------------------------------------------

    @activity.defn(name="submit_order")
    async def submit_order(self, request: SubmitRequest) -> SubmittedOrder:
        async with reading(self._sessions) as session:
            order = await orders_repo.get_order(session, request.customer_id, request.order_id)
            customer = await session.get(Customer, request.customer_id)
            if order is None or customer is None:
                raise ApplicationError(f"order {request.order_id} not found", non_retryable=True)
            if order.erp_order_number and order.idempotency_key == request.idempotency_key:
                return SubmittedOrder(
                    order_id=order.id, erp_order_number=order.erp_order_number, replayed=True
                )
            submission = OrderSubmission(
                lines=[OrderLine(**line) for line in order.lines],
                reference=erp_reference(request.idempotency_key),
            )
            erp_code = customer.erp_code
        try:
            receipt = await self._erp.submit_order(erp_code, submission, request.idempotency_key)
        except (ErpRejected, ErpBadData) as err:
            async with unit_of_work(self._sessions) as session:
                order = await orders_repo.get_order(session, request.customer_id, request.order_id)
                if order is not None:
                    await _record_rejected(session, order, request.idempotency_key, str(err))
            raise _as_application_error(err) from err
        except ErpError as err:
            raise _as_application_error(err) from err
        async with unit_of_work(self._sessions) as session:
            order = await orders_repo.get_order(session, request.customer_id, request.order_id)
            assert order is not None
            await _record_submitted(session, order, request.idempotency_key, receipt)
        return SubmittedOrder(
            order_id=request.order_id,
            erp_order_number=receipt.order_number,
            replayed=receipt.replayed,
        )

    @activity.defn(name="track_orders")
    async def track_orders(self, request: TrackRequest) -> list[TrackedOrder]:
        async with reading(self._sessions) as session:
            customer = await session.get(Customer, request.customer_id)
            if customer is None:
                raise ApplicationError("customer not found", non_retryable=True)
            numbers = {}
            for order_id in request.order_ids:
                order = await orders_repo.get_order(session, request.customer_id, order_id)
                if order is not None and order.erp_order_number:
                    numbers[order_id] = order.erp_order_number
        fetched = {}
        async with heartbeating():
            for order_id, number in numbers.items():
                try:
                    fetched[order_id] = await self._erp.get_order(customer.erp_code, number)
                except ErpError as err:
                    raise _as_application_error(err) from err
        tracked: list[TrackedOrder] = []
        async with unit_of_work(self._sessions) as session:
            for order_id in request.order_ids:
                order = await orders_repo.get_order(session, request.customer_id, order_id)
                if order is None:
                    continue
                erp_order = fetched.get(order_id)
                if erp_order is not None:
                    order.eta = erp_order.eta
                    order.delivered_on = erp_order.delivered_on
                    await orders_repo.change_status(
                        session,
                        order,
                        ERP_TO_ORDER_STATUS[erp_order.status],
                        actor="erp:tracking",
                        details={"erp_order_number": order.erp_order_number},
                    )
                tracked.append(
                    TrackedOrder(
                        order_id=order.id,
                        erp_order_number=order.erp_order_number,
                        status=order.status,
                        eta=order.eta,
                        delivered_on=order.delivered_on,
                    )
                )
        return tracked

    @activity.defn(name="close_orders")
    async def close_orders(self, request: CloseOrdersRequest) -> None:
        async with unit_of_work(self._sessions) as session:
            for order_id in request.order_ids:
                order = await orders_repo.get_order(session, request.customer_id, order_id)
                if order is None:
                    continue
                order.failure_reason = request.reason
                await orders_repo.change_status(
                    session,
                    order,
                    OrderStatus(request.status),
                    actor=request.actor,
                    note=request.reason,
                    details={"reason": request.reason},
                )

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.sync_customer,
            self.recommend,
            self.record_cycle,
            self.notify,
            self.record_approval,
            self.approve_and_submit,
            self.record_rejection,
            self.submit_order,
            self.track_orders,
            self.close_orders,
        ]


def recommendation_view(version: RecommendationVersion) -> RecommendationView:
    lines = {line.product_code: line for line in version.lines}
    return RecommendationView(
        version=version.version,
        summary=version.summary,
        containers=[
            ContainerView(
                index=c.index,
                cartons=c.cartons,
                fill_pct=c.fill_pct,
                urgent=c.urgent,
                lines=[
                    LineView(
                        product_code=cl.product_code,
                        name=lines[cl.product_code].name,
                        quantity=cl.quantity,
                        pack_size=lines[cl.product_code].pack_size,
                        moq=lines[cl.product_code].moq,
                        urgent=cl.urgent,
                    )
                    for cl in c.lines
                ],
            )
            for c in version.containers
        ],
    )


def _repacked(
    version: RecommendationVersion, record: ApprovalRecord, settings: PlanSettings
) -> list[tuple[int, list[tuple[str, int]]]]:
    """The chosen containers' products with the edited quantities, packed again."""
    chosen = [c for c in version.containers if c.index in set(record.containers)]
    totals: dict[str, int] = defaultdict(int)
    for container in chosen:
        for line in container.lines:
            totals[line.product_code] += line.quantity
    totals.update(record.edits)
    by_code = {line.product_code: line for line in version.lines}
    edited: list[Line] = [
        by_code[code].model_copy(update={"quantity": qty, "edited": code in record.edits})
        for code, qty in totals.items()
        if qty > 0
    ]
    edited.sort(key=lambda line: not line.urgent)
    packed = repack(edited, settings)
    return [(c.index, [(line.product_code, line.quantity) for line in c.lines]) for c in packed]


async def _planned_orders(
    session: AsyncSession, record: ApprovalRecord, run_id: str
) -> list[PlannedOrder]:
    prefix = idempotency_key(record.workflow_id, run_id, record.version, 0)[:-1]
    rows = await orders_repo.find_by_key_prefix(session, record.customer_id, prefix)
    return [_planned(order, _container_index(order.idempotency_key or "")) for order in rows]


def _container_index(key: str) -> int:
    """The container of `<workflow>:<run>:v<version>:c<index>[:r<round>]`."""
    return int(key.rsplit(":c", 1)[1].split(":")[0])


def _planned(order: Order, index: int) -> PlannedOrder:
    return PlannedOrder(
        order_id=order.id,
        container_index=index,
        idempotency_key=order.idempotency_key or "",
        cartons=order.cartons,
        lines=[(line["product_code"], int(line["quantity"])) for line in order.lines],
    )


async def _record_cycle(session: AsyncSession, record: CycleRecord) -> None:
    """One state change of the cycle: its read-model row and an audit entry."""
    await cycles.record_cycle(
        session,
        workflow_id=record.workflow_id,
        run_id=record.run_id,
        customer_id=record.customer_id,
        status=record.status.value,
        recommendation_version=record.recommendation_version,
        detail=record.detail,
        finished=record.status in FINAL_STATUSES,
    )
    if record.status is CycleStatus.EXPIRED and record.recommendation_version:
        await recommendations_repo.decide(
            session,
            record.customer_id,
            record.recommendation_version,
            RecommendationStatus.EXPIRED,
            decided_by="workflow",
            at=datetime.now(UTC),
        )
    await audit.append(
        session,
        actor=record.actor,
        action=f"cycle.{record.status.value}",
        customer_id=record.customer_id,
        target_type="cycle",
        target_id=record.workflow_id,
        details={"version": record.recommendation_version, "detail": record.detail},
    )


async def _record_submitted(
    session: AsyncSession, order: Order, key: str, receipt: SubmissionReceipt
) -> None:
    order.idempotency_key = key
    order.erp_order_number = receipt.order_number
    order.eta = receipt.eta
    order.failure_reason = None
    await orders_repo.change_status(
        session,
        order,
        OrderStatus.SUBMITTED,
        actor="workflow",
        note=f"ERP order {receipt.order_number}" + (" (replayed)" if receipt.replayed else ""),
        details={
            "erp_order_number": receipt.order_number,
            "idempotency_key": key,
            "replayed": receipt.replayed,
            "attempt": activity.info().attempt,
        },
        audit_unchanged=True,  # a replayed submission is worth a line in the log
    )


async def _record_rejected(session: AsyncSession, order: Order, key: str, reason: str) -> None:
    order.failure_reason = reason
    await orders_repo.change_status(
        session,
        order,
        OrderStatus.FAILED,
        actor="erp",
        note=reason,
        action="order.rejected",
        details={"reason": reason, "idempotency_key": key},
        audit_unchanged=True,
    )


def _as_application_error(err: ErpError) -> ApplicationError:
    """Typed ERP errors → Temporal errors the retry policy understands by type name."""
    if isinstance(err, ErpUnavailable):
        delay = timedelta(seconds=err.retry_after) if err.retry_after else None
        return ApplicationError(str(err), type=type(err).__name__, next_retry_delay=delay)
    non_retryable = isinstance(err, ErpRejected | ErpBadData) or not err.retryable
    type_name = "ErpRejected" if isinstance(err, ErpRejected) else type(err).__name__
    return ApplicationError(str(err), type=type_name, non_retryable=non_retryable)
