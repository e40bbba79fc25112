"""From an approval to orders the ERP holds: write the orders, offer each container to the
ERP, record what it answered. Each function is one commit scope and idempotent, since the
cycle's activities may run more than once: orders are found again by their idempotency keys,
and the ERP replays a key it already has.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import NotFound
from erp.client import ErpClient
from erp.errors import ErpBadData, ErpError, ErpRejected, ErpUnavailable
from erp.models import OrderSubmission, SubmissionReceipt
from planning.approval import edited_items
from planning.models import OrderLine
from planning.packing import Limits, pack, to_containers
from planning.pricing import PricedLine
from planning.settings import PlanSettings
from services.additions import with_added
from services.customer_settings import plan_settings
from services.cycle_records import write_cycle_record
from services.prices import price_book
from services.proposals import PROPOSED
from services.recommend import chosen_items, stored_settings, to_version
from services.risk import Risk, StockFacts, risk_after_order
from services.schemas import RecommendationVersion
from store import audit, snapshots
from store import customer_settings as settings_repo
from store import orders as orders_repo
from store import recommendations as recommendations_repo
from store.db import reading, unit_of_work
from store.models import Customer, Order, OrderSource, OrderStatus, RecommendationStatus
from workflows.contract.cycle import (
    ApprovalOutcome,
    ApprovalRecord,
    ApproveAndSubmit,
    CloseOrdersRequest,
    FirstSubmission,
    PlannedOrder,
    ProposalRecord,
    RejectRecord,
    SubmitRequest,
    SubmittedOrder,
)

MAX_ERP_REFERENCE = 64
RETRYING = "retried with the same idempotency key (back-off up to 5 minutes)"


class OutcomeUnknown(ErpUnavailable):
    """The ERP's answer to a submission could not be read: the order may or may not exist.
    Retried with the same key, never re-keyed, until the ERP answers it readably."""

    code = "erp_outcome_unknown"

    def __init__(self, detail: str) -> None:
        super().__init__(f"the outcome of the submission is unknown: {detail}")


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


def container_index(key: str) -> int:
    """The container of `<workflow>:<run>:v<version>:c<index>[:r<round>]`."""
    return int(key.rsplit(":c", 1)[1].split(":")[0])


# --- the approval -----------------------------------------------------------------------------


async def record_approval(
    sessions: async_sessionmaker[AsyncSession], record: ApprovalRecord
) -> tuple[list[PlannedOrder], str]:
    """Turn the approved containers (with any edits, re-packed) into orders; idempotent by
    the orders' idempotency keys. Returns them with the customer's ERP code."""
    async with unit_of_work(sessions) as session:
        customer = await session.get(Customer, record.customer_id)
        if customer is None:
            raise NotFound(f"customer {record.customer_id} not found")
        existing = await _planned_orders(session, record)
        if existing:
            return existing, customer.erp_code
        # Containers only: a large customer's lines and explanations are needed (and
        # loaded) only to re-pack edited quantities.
        rec = await recommendations_repo.get_header(session, record.customer_id, record.version)
        if rec is None:
            raise NotFound(f"recommendation v{record.version} not found")
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
        book = await price_book(
            session, record.customer_id, sorted({c for _, lines in containers for c, _ in lines})
        )
        priced_on = rec.as_of  # the day the approval's value was checked against credit
        created: list[tuple[int, Order]] = []
        for index, lines in containers:
            key = idempotency_key(record.workflow_id, record.run_id, record.version, index)
            priced = [book.line(code, qty, priced_on) for code, qty in lines]
            values = [p.value for p in priced if p.value is not None]
            order = await orders_repo.create_order(
                session,
                customer_id=record.customer_id,
                status=OrderStatus.APPROVED,
                source=OrderSource.RESTOCK,
                ordered_on=today,
                lines=[_order_line(p) for p in priced],
                value=str(sum(values, Decimal(0))) if values else None,
                currency=book.currency if values else None,
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
        await _count_as_on_order(session, record.customer_id, containers, rec.settings)
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
                **({"credit_override": record.credit_override} if record.credit_override else {}),
                **({"proposed_by": record.proposed_by} if record.proposed_by else {}),
            },
        )
        return planned, customer.erp_code


def _order_line(line: PricedLine) -> dict[str, Any]:
    out: dict[str, Any] = {"product_code": line.product_code, "quantity": line.quantity}
    if line.value is not None:
        out |= {"unit_price": str(line.unit_price), "value": str(line.value)}
    return out


async def approve_and_submit(
    sessions: async_sessionmaker[AsyncSession], erp: ErpClient, request: ApproveAndSubmit
) -> ApprovalOutcome:
    """`record_approval`, then one attempt per container at the ERP (concurrently, each
    within `attempt_timeout`), and one transaction for what the ERP answered, with the
    cycle's new status (`cycle`).

    The cycle runs this as its approval's local activity, so the ERP holds the order one
    database transaction after the approval reached the worker. Idempotent like its parts.
    """
    approval = request.approval
    planned, erp_code = await record_approval(sessions, approval)
    attempts = await asyncio.gather(
        *(_first_attempt(erp, erp_code, p, request.attempt_timeout) for p in planned)
    )
    async with unit_of_work(sessions) as session:
        orders = await orders_repo.get_orders(
            session, approval.customer_id, [p.order_id for p in planned]
        )
        for p, (receipt, outcome) in zip(planned, attempts, strict=True):
            order = orders[p.order_id]
            if receipt is not None:
                await _record_submitted(session, order, p.idempotency_key, receipt, attempt=1)
            elif outcome.rejected:
                reason = outcome.failure or "rejected by the ERP"
                await _record_rejected(session, order, p.idempotency_key, reason)
            else:  # the buyer sees why the order is not with the ERP yet
                order.failure_reason = outcome.failure
        if request.cycle is not None:
            await write_cycle_record(session, request.cycle)
    return ApprovalOutcome(planned=planned, submissions=[outcome for _, outcome in attempts])


async def _first_attempt(
    erp: ErpClient, erp_code: str, planned: PlannedOrder, within: timedelta
) -> tuple[SubmissionReceipt | None, FirstSubmission]:
    submission = OrderSubmission(
        lines=[OrderLine(product_code=code, quantity=qty) for code, qty in planned.lines],
        reference=erp_reference(planned.idempotency_key),
    )
    order_id = planned.order_id
    try:
        async with asyncio.timeout(within.total_seconds()):
            receipt = await erp.submit_order(erp_code, submission, planned.idempotency_key)
    except TimeoutError:
        failure = f"no answer from the ERP within {within.total_seconds():g} s; {RETRYING}"
        return None, FirstSubmission(order_id=order_id, failure=failure)
    except ErpRejected as err:
        return None, FirstSubmission(order_id=order_id, failure=str(err), rejected=True)
    except ErpBadData as err:  # not a refusal: the order may exist; the same key will tell
        failure = f"the ERP's answer could not be read ({err}); {RETRYING}"
        return None, FirstSubmission(order_id=order_id, failure=failure)
    except Exception as err:  # anything else: the retried submit_order activity decides
        failure = f"{str(err) or type(err).__name__}; {RETRYING}"
        return None, FirstSubmission(order_id=order_id, failure=failure)
    first = FirstSubmission(
        order_id=order_id, erp_order_number=receipt.order_number, eta=receipt.eta
    )
    return receipt, first


async def record_rejection(
    sessions: async_sessionmaker[AsyncSession], record: RejectRecord
) -> None:
    async with unit_of_work(sessions) as session:
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


async def record_proposal(
    sessions: async_sessionmaker[AsyncSession], record: ProposalRecord
) -> None:
    proposal = record.proposal
    async with unit_of_work(sessions) as session:
        await audit.append(
            session,
            actor=proposal.actor,
            action=PROPOSED,
            customer_id=record.customer_id,
            target_type="recommendation",
            target_id=proposal.version,
            details={
                "containers": proposal.containers,
                "edits": proposal.edits,
                "value": None if proposal.value is None else str(proposal.value),
                "workflow_id": record.workflow_id,
            },
        )


# --- the ERP order ----------------------------------------------------------------------------


async def submit_order(
    sessions: async_sessionmaker[AsyncSession],
    erp: ErpClient,
    request: SubmitRequest,
    *,
    attempt: int = 1,
) -> SubmittedOrder:
    """Send one approved order to the ERP under its idempotency key and record the answer.
    A business refusal is recorded on the order and raised (`ErpRejected`). Anything else is
    raised for the caller to retry with the same key, and its reason kept on the order for
    the buyer; an answer that cannot be read (`ErpBadData`) is an unknown outcome, not a
    refusal: the ERP, which may hold the order, answers the same key with it next time."""
    async with reading(sessions) as session:
        order = await orders_repo.get_order(session, request.customer_id, request.order_id)
        customer = await session.get(Customer, request.customer_id)
        if order is None or customer is None:
            raise NotFound(f"order {request.order_id} not found")
        if order.erp_order_number and order.idempotency_key == request.idempotency_key:
            return SubmittedOrder(
                order_id=order.id,
                erp_order_number=order.erp_order_number,
                eta=order.promised_eta or order.eta,
                replayed=True,
            )
        submission = OrderSubmission(
            lines=[
                OrderLine(product_code=line["product_code"], quantity=int(line["quantity"]))
                for line in order.lines
            ],
            reference=erp_reference(request.idempotency_key),
        )
        erp_code = customer.erp_code
    try:
        receipt = await erp.submit_order(erp_code, submission, request.idempotency_key)
    except ErpRejected as err:
        async with unit_of_work(sessions) as session:
            order = await orders_repo.get_order(session, request.customer_id, request.order_id)
            if order is not None:
                await _record_rejected(session, order, request.idempotency_key, str(err))
        raise
    except ErpError as err:
        unknown = isinstance(err, ErpBadData)
        reason = (
            f"attempt {attempt}: the ERP's answer could not be read ({err})"
            if unknown
            else f"attempt {attempt}: {err}"
        )
        async with unit_of_work(sessions) as session:
            order = await orders_repo.get_order(session, request.customer_id, request.order_id)
            if order is not None and not order.erp_order_number:
                order.failure_reason = f"{reason}; {RETRYING}"
        if unknown:
            raise OutcomeUnknown(str(err)) from err
        raise
    async with unit_of_work(sessions) as session:
        order = await orders_repo.get_order(session, request.customer_id, request.order_id)
        if order is None:
            raise NotFound(f"order {request.order_id} not found")
        await _record_submitted(session, order, request.idempotency_key, receipt, attempt=attempt)
    return SubmittedOrder(
        order_id=request.order_id,
        erp_order_number=receipt.order_number,
        eta=receipt.eta,
        replayed=receipt.replayed,
    )


async def close_orders(
    sessions: async_sessionmaker[AsyncSession], request: CloseOrdersRequest
) -> None:
    async with unit_of_work(sessions) as session:
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


# --- helpers ----------------------------------------------------------------------------------


def _repacked(
    version: RecommendationVersion, record: ApprovalRecord, current: PlanSettings
) -> list[tuple[int, list[tuple[str, int]]]]:
    """The chosen containers' products with the edited quantities, packed again under the
    limits the version was planned for (the approval's validator held the edits to them)."""
    settings = version.settings or current
    items = with_added(chosen_items(version, record.containers), record.added)
    boxes, _ = pack(edited_items(items, record.edits), Limits.from_settings(settings))
    return [
        (c.index, [(line.product_code, line.quantity) for line in c.lines])
        for c in to_containers(boxes)
    ]


async def _count_as_on_order(
    session: AsyncSession,
    customer_id: int,
    containers: list[tuple[int, list[tuple[str, int]]]],
    plan_settings_json: dict[str, Any],
) -> None:
    """The approved cartons are on order from now on: every page's cover and risk say so at
    once, not after the next sync. Nothing is left to order of them in this recommendation."""
    ordered: dict[str, int] = {}
    for _, lines in containers:
        for code, qty in lines:
            ordered[code] = ordered.get(code, 0) + qty
    settings = stored_settings(plan_settings_json)
    max_cover = settings.max_cover_weeks if settings else PlanSettings().max_cover_weeks
    for product in await snapshots.products_by_code(session, customer_id, list(ordered)):
        product.pipeline += ordered[product.code]
        product.ordered_quantity = 0
        if product.risk is None:
            continue
        product.risk = risk_after_order(
            Risk(product.risk),
            StockFacts(
                on_hand=product.stock_on_hand,
                on_order=product.pipeline,
                weekly_forecast=product.weekly_forecast,
                run_out_date=product.run_out_date,
                urgent=product.urgent,
                arrival=None,
                max_cover_weeks=max_cover,
            ),
        ).value
    await snapshots.refresh_product_health(session, customer_id)


async def _planned_orders(session: AsyncSession, record: ApprovalRecord) -> list[PlannedOrder]:
    prefix = idempotency_key(record.workflow_id, record.run_id, record.version, 0)[:-1]
    rows = await orders_repo.find_by_key_prefix(session, record.customer_id, prefix)
    return [_planned(order, container_index(order.idempotency_key or "")) for order in rows]


def _planned(order: Order, index: int) -> PlannedOrder:
    return PlannedOrder(
        order_id=order.id,
        container_index=index,
        idempotency_key=order.idempotency_key or "",
        cartons=order.cartons,
        lines=[(line["product_code"], int(line["quantity"])) for line in order.lines],
    )


async def _record_submitted(
    session: AsyncSession, order: Order, key: str, receipt: SubmissionReceipt, *, attempt: int
) -> None:
    order.idempotency_key = key
    order.erp_order_number = receipt.order_number
    order.eta = receipt.eta
    if order.promised_eta is None:
        order.promised_eta = receipt.eta
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
            "attempt": attempt,
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
