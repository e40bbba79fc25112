"""Plan one customer from its stored snapshot and store the result as a recommendation version."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, NotFound
from core.metrics import PLANNING, size_class
from planning.approval import pack_item
from planning.engine import plan
from planning.models import (
    ErpOrder,
    OrderLine,
    Product,
    ProductStatus,
    ShipmentCorrection,
    ShipmentRow,
)
from planning.models import OrderStatus as ErpOrderStatus
from planning.packing import PackItem
from planning.schemas import (
    Container,
    Line,
    PlanInput,
    PlanStatus,
    Recommendation,
    Totals,
    construct,
)
from planning.settings import PlanSettings
from services import consumption
from services.customer_settings import plan_settings
from services.fingerprints import content_fingerprint
from services.prices import rows_of as price_rows
from services.profiles import profile_of
from services.risk import StockFacts, assess
from services.schemas import RecommendationVersion
from store import audit, snapshots, snoozes
from store import customer_settings as settings_repo
from store import orders as orders_repo
from store import recommendations as recommendations_repo
from store.db import unit_of_work
from store.models import (
    Customer,
    Order,
    OrderStatus,
    RecommendationContainer,
    RecommendationLine,
    RecommendationRecord,
    RecommendationStatus,
    SnapshotProduct,
)

_PIPELINE_STATUS = {
    OrderStatus.APPROVED.value: ErpOrderStatus.APPROVED,
    OrderStatus.SUBMITTED.value: ErpOrderStatus.APPROVED,
    OrderStatus.IN_TRANSIT.value: ErpOrderStatus.IN_TRANSIT,
    OrderStatus.DELIVERED.value: ErpOrderStatus.DELIVERED,
    OrderStatus.CANCELLED.value: ErpOrderStatus.CANCELLED,
}
# Our own orders' rounding and pull-forward are taken off the shipment history this far back
# (after a quarter of stock counts the planner reads consumption from them instead).
CORRECTION_WEEKS = 52


async def recommend(
    sessions: async_sessionmaker[AsyncSession],
    customer_id: int,
    *,
    actor: str = "system:recommend",
) -> RecommendationVersion:
    """Plan from the stored snapshot, pipeline and settings; store a new current version.

    Idempotent: when the inputs equal those of the latest version and it is still current,
    that version is returned (`created` False) and nothing is written. Raises NotFound for an
    unknown customer and Conflict when it has never been synced.
    """
    async with sessions() as session:
        inp, fingerprint = await plan_input(session, customer_id)
        reused = await _reusable(session, customer_id, fingerprint)
    if reused is not None:
        return reused
    started = time.perf_counter()
    recommendation = await asyncio.to_thread(plan, inp)
    PLANNING.labels(size_class(len(inp.products))).observe(time.perf_counter() - started)
    async with unit_of_work(sessions) as session:
        again = await _reusable(session, customer_id, fingerprint)
        if again is not None:  # another caller stored the same plan meanwhile
            return again
        record = await _store(session, customer_id, recommendation, fingerprint)
        await audit.append(
            session,
            actor=actor,
            action="recommendation.created",
            customer_id=customer_id,
            target_type="recommendation",
            target_id=record.version,
            details={
                "containers": record.container_count,
                "cartons": record.cartons,
                "urgent": record.urgent,
            },
        )
        return to_version(record, created=True)


async def plan_input(session: AsyncSession, customer_id: int) -> tuple[PlanInput, str]:
    """What the engine plans from, with its fingerprint: the snapshot's products and
    shipments, open orders as pipeline, the ERP's consumption reports and our stock counts,
    delivered orders (lead time, receipts), cancelled ones (first lots) and our orders'
    shipment corrections."""
    if await session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found")
    snapshot = await snapshots.get_snapshot(session, customer_id)
    if snapshot is None:
        raise Conflict(f"customer {customer_id} has no ERP snapshot yet; sync it first")
    settings = plan_settings(await settings_repo.get_or_create(session, customer_id))
    products = await snapshots.products_for_planning(session, customer_id)
    pipeline = [
        order
        for order in map(_as_erp_order, await orders_repo.pipeline_orders(session, customer_id))
        if order is not None
    ]
    since = snapshot.as_of - timedelta(weeks=settings.history_weeks)
    delivered = await orders_repo.delivered_orders(session, customer_id, since)
    history = [order for order in map(_as_erp_order, delivered) if order is not None]
    cancelled = [
        order
        for order in map(
            _as_erp_order, await orders_repo.cancelled_orders(session, customer_id, since)
        )
        if order is not None
    ]
    corrections = await _shipment_corrections(
        session, customer_id, snapshot.as_of - timedelta(weeks=CORRECTION_WEEKS)
    )
    inp = PlanInput(
        as_of=snapshot.as_of,
        settings=settings,
        products=[as_product(p) for p in products],
        pipeline=pipeline,
        snapshots=[
            s
            for p in products
            for s in consumption.snapshots_of(p.code, p.stock_counts, snapshot.as_of)
        ],
        order_history=history,
        cancelled_orders=cancelled,
        shipment_corrections=corrections,
        prices=[r for p in products for r in price_rows(p.code, p.prices)],
        currency=profile.currency if (profile := profile_of(snapshot)) else None,
        snoozed=await snoozes.active(session, customer_id, snapshot.as_of),
    ).model_copy(
        # The shipments and reports the sync validated, rows per product as stored: no
        # model per row (some 200,000 for a 4,000-product customer) and no validating again.
        update={
            "shipments_by_product": {p.code: _shipment_rows(p.shipments) for p in products},
            "consumption_by_product": {
                p.code: consumption.report_rows(p.consumption) for p in products
            },
        }
    )
    fingerprint = _fingerprint(
        snapshot.fingerprint,
        snapshot.as_of,
        settings,
        [*pipeline, *history, *cancelled],
        corrections,
        inp.snoozed,
    )
    return inp, fingerprint


async def _shipment_corrections(
    session: AsyncSession, customer_id: int, since: date
) -> list[ShipmentCorrection]:
    """Per product of our approved orders, the cartons beyond the line's demand-driven need
    (rounding to packs and MOQ, pull-forward to fill a container): shipments of them are not
    demand of the week they shipped."""
    orders = await orders_repo.approved_since(session, customer_id, since)
    codes = {line["product_code"] for order in orders for line in order.lines}
    needs = await recommendations_repo.line_needs(
        session, {o.recommendation_id for o in orders if o.recommendation_id}, codes
    )
    approved: dict[tuple[int, str], tuple[date, int]] = {}
    for order in orders:
        assert order.recommendation_id is not None
        for line in order.lines:
            key = (order.recommendation_id, line["product_code"])
            day, qty = approved.get(key, (order.ordered_on, 0))
            approved[key] = (min(day, order.ordered_on), qty + int(line["quantity"]))
    corrections = []
    for key, (day, qty) in sorted(approved.items()):
        need, weekly = needs.get(key, (qty, 0.0))
        if qty > need and weekly > 0:
            corrections.append(
                ShipmentCorrection(
                    product_code=key[1],
                    ordered_on=day,
                    excess_cartons=qty - max(need, 0),
                    weekly_forecast=weekly,
                )
            )
    return corrections


async def _reusable(
    session: AsyncSession, customer_id: int, fingerprint: str
) -> RecommendationVersion | None:
    latest = await recommendations_repo.latest(session, customer_id)
    if (
        latest is None
        or latest.input_fingerprint != fingerprint
        or latest.status != RecommendationStatus.CURRENT.value
    ):
        return None
    full = await recommendations_repo.get_version(session, customer_id, latest.version)
    return None if full is None else to_version(full, created=False)


def _fingerprint(
    snapshot_fingerprint: str,
    as_of: date,
    settings: PlanSettings,
    orders: Sequence[ErpOrder],
    corrections: Sequence[ShipmentCorrection],
    snoozed: Mapping[str, date],
) -> str:
    content = {
        "snapshot": snapshot_fingerprint,
        "as_of": as_of.isoformat(),
        "settings": settings.model_dump(mode="json"),
        "orders": [o.model_dump(mode="json") for o in orders],
        "corrections": [c.model_dump(mode="json") for c in corrections],
        **({"snoozed": {c: d.isoformat() for c, d in sorted(snoozed.items())}} if snoozed else {}),
    }
    return content_fingerprint(content)


def as_product(row: SnapshotProduct) -> Product:
    """A stored product as the planner sees it."""
    return Product(
        code=row.code,
        name=row.name,
        pack_size=row.pack_size,
        moq=row.moq,
        status=ProductStatus(row.product_status),
        carton_weight_kg=row.carton_weight_kg,
        carton_volume_m3=row.carton_volume_m3,
        stock_on_hand=row.stock_on_hand,
    )


def _shipment_rows(stored: list[list[int]]) -> list[ShipmentRow]:
    return cast(list[ShipmentRow], list(map(tuple, stored)))


def _as_erp_order(order: Order) -> ErpOrder | None:
    """A stored order as the planner sees it. Its lines were validated when stored (the ERP's
    at the sync, ours at approval): not again, one by one (a large customer's history holds
    some 30,000)."""
    lines = [
        construct(OrderLine, {"product_code": line["product_code"], "quantity": quantity})
        for line in order.lines
        if (quantity := int(line["quantity"])) > 0
    ]
    if not lines:
        return None
    return ErpOrder(
        order_number=order.erp_order_number or f"restock-{order.id}",
        status=_PIPELINE_STATUS[order.status],
        ordered_on=order.ordered_on,
        eta=order.eta,
        delivered_on=order.delivered_on,
        reference=order.idempotency_key,
        lines=lines,
    )


async def _store(
    session: AsyncSession, customer_id: int, rec: Recommendation, fingerprint: str
) -> RecommendationRecord:
    await recommendations_repo.supersede_current(session, customer_id)
    record = RecommendationRecord(
        customer_id=customer_id,
        version=await recommendations_repo.next_version(session, customer_id),
        status=RecommendationStatus.CURRENT.value,
        as_of=rec.as_of,
        summary=rec.summary,
        urgent=any(c.urgent for c in rec.containers),
        container_count=len(rec.containers),
        urgent_container_count=sum(1 for c in rec.containers if c.urgent),
        cartons=rec.totals.cartons,
        totals=rec.totals.model_dump(mode="json"),
        warnings=list(rec.warnings),
        settings=rec.settings.model_dump(mode="json"),
        input_fingerprint=fingerprint,
        containers=[
            RecommendationContainer(
                **c.model_dump(mode="json", exclude={"lines"}),
                lines=[line.model_dump(mode="json") for line in c.lines],
            )
            for c in rec.containers
        ],
        lines=[
            RecommendationLine(
                position=i,
                **line.model_dump(mode="json", exclude={"explanation"}),
                explanation=None
                if line.explanation is None
                else line.explanation.model_dump(mode="json"),
            )
            for i, line in enumerate(rec.lines)
        ],
    )
    await recommendations_repo.add(session, record)
    ids = await snapshots.product_ids(session, customer_id)
    await snapshots.apply_plans(session, _plan_rows(rec, ids))
    return record


def _plan_rows(rec: Recommendation, ids: dict[str, int]) -> list[dict[str, Any]]:
    arrival = plan_arrival(rec)
    return [
        {
            "id": ids[p.product_code],
            "plan_status": p.status.value,
            "pattern": p.pattern.value,
            "history_source": p.history_source.value if p.history_source else None,
            "method": p.method,
            "weekly_forecast": p.weekly_forecast,
            "forecast": list(p.forecast),
            "pipeline": p.pipeline,
            "weeks_of_cover": p.weeks_of_cover,
            "run_out_date": p.run_out_date,
            "ordered_quantity": p.ordered_quantity,
            "urgent": p.urgent,
            "risk": assess(
                StockFacts(
                    on_hand=p.stock_on_hand,
                    on_order=p.pipeline,
                    weekly_forecast=p.weekly_forecast,
                    run_out_date=p.run_out_date,
                    urgent=p.urgent,
                    arrival=arrival,
                    max_cover_weeks=rec.settings.max_cover_weeks,
                    planned=p.status in _PLANNED,
                )
            ).value,
        }
        for p in rec.products
        if p.product_code in ids
    ]


_PLANNED = frozenset({PlanStatus.AT_RISK, PlanStatus.REORDER, PlanStatus.HEALTHY})


def plan_arrival(rec: Recommendation) -> date:
    """When an order placed on the plan's date arrives, at the lead time the plan used."""
    weeks = rec.lead_time.weeks if rec.lead_time else rec.settings.lead_time_weeks
    return rec.as_of + timedelta(days=round(weeks * 7))


def to_version(record: RecommendationRecord, *, created: bool = False) -> RecommendationVersion:
    """The schema of a stored version; `record` must have containers and lines loaded."""
    return RecommendationVersion(
        customer_id=record.customer_id,
        version=record.version,
        status=record.status,
        as_of=record.as_of,
        created_at=record.created_at,
        decided_at=record.decided_at,
        decided_by=record.decided_by,
        summary=record.summary,
        urgent=record.urgent,
        totals=Totals.model_validate(record.totals),
        warnings=list(record.warnings),
        containers=[
            Container.model_validate(
                {**{k: getattr(c, k) for k in _CONTAINER_FIELDS}, "lines": c.lines}
            )
            for c in record.containers
        ],
        lines=[
            Line.model_validate({k: getattr(line, k) for k in _LINE_FIELDS})
            for line in record.lines
        ],
        settings=stored_settings(record.settings),
        created=created,
    )


def chosen_items(version: RecommendationVersion, chosen: Sequence[int]) -> list[list[PackItem]]:
    """The chosen containers' lines as the packer sees them, container by container."""
    picked = set(chosen)
    lines = {line.product_code: line for line in version.lines}
    return [
        [
            pack_item(
                cl.product_code,
                cl.quantity,
                pack_size=lines[cl.product_code].pack_size,
                moq=lines[cl.product_code].moq,
                urgent=cl.urgent,
                carton_weight_kg=lines[cl.product_code].carton_weight_kg,
                carton_volume_m3=lines[cl.product_code].carton_volume_m3,
            )
            for cl in c.lines
        ]
        for c in version.containers
        if c.index in picked
    ]


def stored_settings(fields: dict[str, Any] | None) -> PlanSettings | None:
    """The policy a version was planned with; None when it no longer validates (a field
    since removed), so an old version stays readable."""
    if not fields:
        return None
    try:
        return PlanSettings.model_validate(fields)
    except ValidationError:
        return None


_CONTAINER_FIELDS = [name for name in Container.model_fields if name != "lines"]
_LINE_FIELDS = list(Line.model_fields)
