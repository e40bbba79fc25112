"""What needs someone's attention across every customer, most urgent first, each with the
page where it is acted on.

Kinds, in the order they are shown (a stock-out costs sales today; excess costs money
slowly): stocked out, will run out before the next arrival, failed cycle (the ERP refused a
container, a sync failed), late shipment, stuck cycle (a sync, plan or submission that has
not moved for `STUCK_AFTER`), messages a channel could not deliver within `UNDELIVERED_FOR`
(a buyer who is told nothing does not approve), data-quality problems, too much on order,
excess. Within a kind the biggest first: products, cartons late, hours stuck, messages,
issues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.deliveries import CHANNEL_NAMES, error_words
from services.insights import CustomerRef, OrderFact, StockFact
from store import insights as store_insights
from store.insights import CycleFact, UndeliveredFact
from workflows.contract.cycle import CycleStatus

STUCK_AFTER = timedelta(hours=6)
UNDELIVERED_FOR = timedelta(days=7)
MOVING_STATUSES = frozenset(
    {
        CycleStatus.SYNCING,
        CycleStatus.PLANNING,
        CycleStatus.REFRESHING,
        CycleStatus.APPROVING,
        CycleStatus.SUBMITTING,
    }
)
FAILED_STATUSES = frozenset({CycleStatus.FAILED, CycleStatus.SUBMISSION_FAILED})


class Kind(StrEnum):
    STOCKED_OUT = "stocked_out"
    RUNS_OUT = "runs_out_before_arrival"
    FAILED_CYCLE = "failed_cycle"
    LATE_SHIPMENT = "late_shipment"
    STUCK_CYCLE = "stuck_cycle"
    UNDELIVERED = "undelivered_messages"
    DATA_QUALITY = "data_quality"
    TOO_MUCH_ON_ORDER = "too_much_on_order"
    EXCESS = "excess"


LABELS = {
    Kind.STOCKED_OUT: "stocked out",
    Kind.RUNS_OUT: "will run out before the next arrival",
    Kind.FAILED_CYCLE: "cycle failed",
    Kind.LATE_SHIPMENT: "late shipment",
    Kind.STUCK_CYCLE: "cycle stuck",
    Kind.UNDELIVERED: "messages not delivered",
    Kind.DATA_QUALITY: "data-quality problems",
    Kind.TOO_MUCH_ON_ORDER: "too much on order",
    Kind.EXCESS: "excess stock",
}
ORDER = list(Kind)


@dataclass(frozen=True)
class ExceptionItem:
    customer: CustomerRef
    kind: Kind
    impact: float
    unit: str  # what `impact` counts: products, cartons, hours, issues
    detail: str
    link: str
    action: str

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def impact_unit(self) -> str:
        """The unit as read with this impact: 1 product, 2 products."""
        return self.unit.removesuffix("s") if self.impact == 1 else self.unit


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _sort_key(e: ExceptionItem) -> tuple[int, float, str]:
    return (ORDER.index(e.kind), -e.impact, e.customer.name)


def exceptions(
    customers: Sequence[CustomerRef],
    stock: Sequence[StockFact],
    orders: Sequence[OrderFact],
    cycles: Sequence[CycleFact],
    now: datetime,
    workflow_link: Callable[[str, str | None], str],
    undelivered: Sequence[UndeliveredFact] = (),
) -> list[ExceptionItem]:
    """`workflow_link(workflow_id, run_id)`: where a stuck cycle's steps are seen (the
    Temporal UI). `undelivered`: messages that failed within `UNDELIVERED_FOR` of `now`."""
    by_id = {c.customer_id: c for c in customers}
    out: list[ExceptionItem] = []

    def add(
        cid: int, kind: Kind, impact: float, unit: str, detail: str, link: str, act: str
    ) -> None:
        if cid in by_id and impact > 0:
            out.append(ExceptionItem(by_id[cid], kind, impact, unit, detail, link, act))

    for s in stock:
        products = f"/customers/{s.customer_id}/products?risk="
        for kind, count in (
            (Kind.STOCKED_OUT, s.stocked_out),
            (Kind.RUNS_OUT, s.runs_out_before_arrival),
            (Kind.TOO_MUCH_ON_ORDER, s.too_much_on_order),
            (Kind.EXCESS, s.excess),
        ):
            add(s.customer_id, kind, count, "products",
                f"{_count(count, 'product')} {LABELS[kind]}", products + kind.value,
                "see the products")  # fmt: skip
        add(s.customer_id, Kind.DATA_QUALITY, s.data_quality_issues, "issues",
            f"{_count(s.data_quality_issues, 'row')} the last sync set aside",
            f"/ops/customers/{s.customer_id}/data-quality", "see the report")  # fmt: skip
    for o in orders:
        if o.late and o.open:
            days = (o.eta - o.promised_eta).days if o.eta and o.promised_eta else None
            later = f", {days} days after the date first promised" if days else ""
            add(o.customer_id, Kind.LATE_SHIPMENT, o.cartons, "cartons",
                f"order {o.order_id}: {o.cartons:,} cartons, ETA {o.eta or 'unknown'}{later}",
                f"/customers/{o.customer_id}/orders/{o.order_id}", "see the order")  # fmt: skip
    for c in cycles:
        if c.status in FAILED_STATUSES:
            add(c.customer_id, Kind.FAILED_CYCLE, 1, "cycles",
                f"{c.status.replace('_', ' ')}: {c.detail or 'no detail recorded'}",
                f"/ops?show=failed#customer-{c.customer_id}", "retry or cancel")  # fmt: skip
        elif c.status in MOVING_STATUSES and now - c.updated_at >= STUCK_AFTER:
            hours = round((now - c.updated_at).total_seconds() / 3600, 1)
            add(c.customer_id, Kind.STUCK_CYCLE, hours, "hours",
                f"{c.status} for {hours:g} hours", workflow_link(c.workflow_id, c.run_id),
                "open its workflow")  # fmt: skip
    for u in undelivered:
        reasons = ", ".join(
            f"{error_words(code)}: {count}"
            for code, count in sorted(u.by_error.items(), key=lambda kv: (-kv[1], kv[0] or 0))
        )
        messages = _count(u.messages, f"{CHANNEL_NAMES.get(u.channel, u.channel)} message")
        add(u.customer_id, Kind.UNDELIVERED, u.messages, "messages",
            f"{messages} not delivered in the last {UNDELIVERED_FOR.days} days ({reasons})",
            f"/ops/customers/{u.customer_id}/messages", "see the messages")  # fmt: skip
    return sorted(out, key=_sort_key)


async def load_exceptions(
    session: AsyncSession, now: datetime, workflow_link: Callable[[str, str | None], str]
) -> list[ExceptionItem]:
    return exceptions(
        await store_insights.customer_refs(session),
        await store_insights.stock_facts(session),
        await store_insights.late_open_orders(session),
        await store_insights.latest_cycle_facts(session),
        now,
        workflow_link,
        await store_insights.undelivered_messages(session, now - UNDELIVERED_FOR),
    )


EXPORT_HEADER = ["Customer", "ERP code", "Exception", "Impact", "Unit", "Detail", "Link"]


def export_rows(items: Sequence[ExceptionItem], base_url: str) -> list[list[Any]]:
    base = base_url.rstrip("/")
    return [EXPORT_HEADER] + [
        [
            e.customer.name,
            e.customer.erp_code,
            e.label,
            e.impact,
            e.unit,
            e.detail,
            e.link if e.link.startswith("http") else base + e.link,
        ]
        for e in items
    ]
