"""What the supplier's figures (`services.insights`) are computed from, read across every
customer: each recommendation made in a period with its outcome and its forecasts, Restock's
orders that were placed, delivered or late in it, the stock each sync read and the
consumption the ERP reported, the deliveries between, each sync's outcome, and each
customer's latest stock and data quality."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit import ERP_SYNC_FAILED, ERP_SYNCED
from store.channels import FAILED_STATUSES as FAILED_DELIVERY_STATUSES
from store.cycles import latest_cycle_ids
from store.models import (
    AuditEntry,
    ChannelDelivery,
    Customer,
    Cycle,
    Order,
    RecommendationLine,
    RecommendationRecord,
    Snapshot,
    SnapshotProduct,
)
from store.models.orders import OPEN_ORDER_STATUSES, OrderSource, OrderStatus

APPROVED, AUTO_APPROVED, REJECTED, EXPIRED = "approved", "auto_approved", "rejected", "expired"
_OPEN = frozenset(s.value for s in OPEN_ORDER_STATUSES)


@dataclass(frozen=True)
class CustomerRef:
    customer_id: int
    name: str
    erp_code: str


@dataclass(frozen=True)
class ReviewFact:
    customer_id: int
    version: int
    created_at: datetime
    outcome: str | None  # one of DECIDED, or None (open, superseded)
    decided_at: datetime | None = None
    reason: str | None = None
    average_fill_pct: float | None = None
    containers: int = 0
    pulled_forward_cartons: int = 0


@dataclass(frozen=True)
class OrderFact:
    customer_id: int
    order_id: int
    status: str
    ordered_on: date
    cartons: int
    promised_eta: date | None = None
    eta: date | None = None
    delivered_on: date | None = None
    late: bool = False

    @property
    def open(self) -> bool:
        """At the ERP or on its way, not yet delivered."""
        return self.status in _OPEN

    @property
    def placed(self) -> bool:
        """Reached the ERP's books (not failed, not cancelled)."""
        return self.open or self.status == OrderStatus.DELIVERED


@dataclass(frozen=True)
class StockFact:
    customer_id: int
    stocked_out: int = 0
    runs_out_before_arrival: int = 0
    excess: int = 0
    too_much_on_order: int = 0
    data_quality_issues: int = 0


@dataclass(frozen=True)
class CycleFact:
    customer_id: int
    workflow_id: str
    run_id: str | None
    status: str
    updated_at: datetime
    detail: str | None = None


@dataclass(frozen=True)
class ForecastFact:
    """A product's weekly forecast in a recommendation made on `as_of`."""

    customer_id: int
    as_of: date
    product_code: str
    weekly: float


@dataclass(frozen=True)
class ProductStockFact:
    """A product's stock as each sync read it and the ERP's weekly consumption reports, as
    `services.consumption` keeps them, with its current weekly forecast."""

    customer_id: int
    product_code: str
    weekly_forecast: float | None
    stock_counts: list[list[int]]  # [[date ordinal, stock on hand], ...] oldest first
    reports: list[list[int | None]]  # [[week start ordinal, consumed, stock], ...]


@dataclass(frozen=True)
class ReceiptFact:
    customer_id: int
    product_code: str
    day: date
    cartons: int


@dataclass(frozen=True)
class SyncFact:
    customer_id: int
    at: datetime
    ok: bool
    attempt: int = 1
    duration_s: float | None = None


def _instant(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def customer_refs(session: AsyncSession) -> list[CustomerRef]:
    rows = await session.execute(
        select(Customer.id, Customer.name, Customer.erp_code).order_by(Customer.name, Customer.id)
    )
    return [CustomerRef(cid, name, code) for cid, name, code in rows]


async def review_facts(session: AsyncSession, start: date, end: date) -> list[ReviewFact]:
    """Recommendations made in [start, end), with their outcome: auto-approvals and
    rejections (with the reason) told apart by the audit log."""
    recs = RecommendationRecord
    rows = (
        await session.execute(
            select(
                recs.customer_id,
                recs.version,
                recs.created_at,
                recs.status,
                recs.decided_at,
                recs.container_count,
                recs.totals,
            ).where(recs.created_at >= _instant(start), recs.created_at < _instant(end))
        )
    ).all()
    decisions = await session.execute(
        select(AuditEntry.customer_id, AuditEntry.target_id, AuditEntry.action, AuditEntry.details)
        .where(
            AuditEntry.action.in_(["recommendation.auto_approved", "recommendation.rejected"]),
            AuditEntry.at >= _instant(start),
        )
        .order_by(AuditEntry.id)
    )
    said = {(cid, target): (action, details) for cid, target, action, details in decisions}
    out = []
    for cid, version, created_at, status, decided_at, containers, totals in rows:
        action, details = said.get((cid, str(version)), (None, {}))
        outcome = {"approved": APPROVED, "rejected": REJECTED, "expired": EXPIRED}.get(status)
        if outcome == APPROVED and action == "recommendation.auto_approved":
            outcome = AUTO_APPROVED
        out.append(
            ReviewFact(
                customer_id=cid,
                version=version,
                created_at=created_at,
                outcome=outcome,
                decided_at=decided_at,
                reason=(details or {}).get("reason") if outcome == REJECTED else None,
                average_fill_pct=(totals or {}).get("average_fill_pct"),
                containers=containers,
                pulled_forward_cartons=int((totals or {}).get("pulled_forward_cartons") or 0),
            )
        )
    return out


_LATE_AND_OPEN = Order.late & Order.status.in_(_OPEN)


async def _order_facts(session: AsyncSession, *where: ColumnElement[bool]) -> list[OrderFact]:
    rows = await session.execute(
        select(
            Order.customer_id,
            Order.id,
            Order.status,
            Order.ordered_on,
            Order.cartons,
            Order.promised_eta,
            Order.eta,
            Order.delivered_on,
            Order.late,
        ).where(Order.source == OrderSource.RESTOCK.value, *where)
    )
    return [OrderFact(*row) for row in rows]


async def order_facts(session: AsyncSession, start: date, end: date) -> list[OrderFact]:
    """Restock's orders placed or delivered in [start, end), and every late one still open."""
    return await _order_facts(
        session,
        or_(
            (Order.ordered_on >= start) & (Order.ordered_on < end),
            (Order.delivered_on >= start) & (Order.delivered_on < end),
            _LATE_AND_OPEN,
        ),
    )


async def late_open_orders(session: AsyncSession) -> list[OrderFact]:
    """Restock's orders flagged late and not yet delivered."""
    return await _order_facts(session, _LATE_AND_OPEN)


async def stock_facts(session: AsyncSession) -> list[StockFact]:
    """Each customer's products by risk and data-quality issues at its latest sync."""
    rows = await session.execute(
        select(Snapshot.customer_id, Snapshot.product_health, Snapshot.data_quality)
    )
    out = []
    for cid, health, quality in rows:
        risk = (health or {}).get("by_risk") or {}
        counts = (quality or {}).get("counts") or {}
        out.append(
            StockFact(
                customer_id=cid,
                stocked_out=int(risk.get("stocked_out", 0)),
                runs_out_before_arrival=int(risk.get("runs_out_before_arrival", 0)),
                excess=int(risk.get("excess", 0)),
                too_much_on_order=int(risk.get("too_much_on_order", 0)),
                data_quality_issues=sum(int(v) for v in counts.values()),
            )
        )
    return out


@dataclass(frozen=True)
class UndeliveredFact:
    """A customer's messages a channel could not deliver since some time, by error code."""

    customer_id: int
    channel: str
    messages: int
    by_error: dict[int | None, int]


async def undelivered_messages(session: AsyncSession, since: datetime) -> list[UndeliveredFact]:
    """Messages Restock sent whose delivery failed at or after `since`, per customer and
    channel."""
    rows = await session.execute(
        select(
            ChannelDelivery.customer_id,
            ChannelDelivery.channel,
            ChannelDelivery.error_code,
            func.count(),
        )
        .where(
            ChannelDelivery.status.in_(FAILED_DELIVERY_STATUSES),
            ChannelDelivery.updated_at >= since,
        )
        .group_by(ChannelDelivery.customer_id, ChannelDelivery.channel, ChannelDelivery.error_code)
    )
    facts: dict[tuple[int, str], dict[int | None, int]] = {}
    for cid, channel, code, count in rows:
        facts.setdefault((cid, channel), {})[code] = int(count)
    return [
        UndeliveredFact(cid, channel, sum(codes.values()), codes)
        for (cid, channel), codes in sorted(facts.items())
    ]


async def latest_cycle_facts(session: AsyncSession) -> list[CycleFact]:
    """Each customer's most recent cycle."""
    rows = await session.execute(
        select(
            Cycle.customer_id,
            Cycle.workflow_id,
            Cycle.run_id,
            Cycle.status,
            Cycle.updated_at,
            Cycle.detail,
        ).where(Cycle.id.in_(latest_cycle_ids()))
    )
    return [CycleFact(*row) for row in rows]


async def forecast_facts(session: AsyncSession, start: date, end: date) -> list[ForecastFact]:
    """The weekly forecast of each line of the recommendations made in [start, end); of
    several versions made for the same day, the last one's."""
    recs = RecommendationRecord
    in_period = (recs.created_at >= _instant(start)) & (recs.created_at < _instant(end))
    last = (
        select(recs.customer_id, recs.as_of, func.max(recs.version).label("version"))
        .where(in_period)
        .group_by(recs.customer_id, recs.as_of)
        .subquery()
    )
    weekly = RecommendationLine.explanation["forecast_weekly"].as_float()
    rows = await session.execute(
        select(recs.customer_id, recs.as_of, RecommendationLine.product_code, weekly)
        .join(
            last,
            and_(
                last.c.customer_id == recs.customer_id,
                last.c.as_of == recs.as_of,
                last.c.version == recs.version,
            ),
        )
        .join(RecommendationLine, RecommendationLine.recommendation_id == recs.id)
        .where(RecommendationLine.explanation.is_not(None))
    )
    return [
        ForecastFact(cid, as_of, code, float(value))
        for cid, as_of, code, value in rows
        if value is not None
    ]


async def product_stock_facts(session: AsyncSession) -> list[ProductStockFact]:
    """Every product's stock counts and consumption reports."""
    rows = await session.execute(
        select(
            SnapshotProduct.customer_id,
            SnapshotProduct.code,
            SnapshotProduct.weekly_forecast,
            SnapshotProduct.stock_counts,
            SnapshotProduct.consumption,
        )
    )
    return [
        ProductStockFact(cid, code, weekly, counts or [], reports or [])
        for cid, code, weekly, counts, reports in rows
    ]


async def receipt_facts(session: AsyncSession, start: date, end: date) -> list[ReceiptFact]:
    """Each line of every order (any source) delivered in [start, end)."""
    rows = await session.execute(
        select(Order.customer_id, Order.delivered_on, Order.lines).where(
            Order.delivered_on >= start, Order.delivered_on < end
        )
    )
    return [
        ReceiptFact(cid, str(line["product_code"]), day, int(line["quantity"]))
        for cid, day, lines in rows
        for line in lines or []
    ]


async def max_cover_weeks(session: AsyncSession) -> dict[int, float]:
    """Per customer, the maximum cover its latest recommendation was planned with."""
    recs = RecommendationRecord
    latest = select(func.max(recs.id)).group_by(recs.customer_id)
    rows = await session.execute(
        select(recs.customer_id, recs.settings["max_cover_weeks"].as_float()).where(
            recs.id.in_(latest)
        )
    )
    return {cid: float(weeks) for cid, weeks in rows if weeks is not None}


async def sync_facts(session: AsyncSession, start: date, end: date) -> list[SyncFact]:
    """Each sync in [start, end), done or failed, from the audit log."""
    rows = await session.execute(
        select(AuditEntry.customer_id, AuditEntry.at, AuditEntry.action, AuditEntry.details)
        .where(
            AuditEntry.action.in_([ERP_SYNCED, ERP_SYNC_FAILED]),
            AuditEntry.at >= _instant(start),
            AuditEntry.at < _instant(end),
            AuditEntry.customer_id.is_not(None),
        )
        .order_by(AuditEntry.id)
    )
    out = []
    for cid, at, action, details in rows:
        said = details or {}
        duration = said.get("duration_s")
        out.append(
            SyncFact(
                customer_id=cid,
                at=at,
                ok=action == ERP_SYNCED,
                attempt=int(said.get("attempt") or 1),
                duration_s=None if duration is None else float(duration),
            )
        )
    return out
