"""Exceptions across customers: what each kind is made of, their order, and their links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.exceptions import Kind, exceptions
from services.insights import CustomerRef, OrderFact, StockFact
from store.insights import CycleFact, UndeliveredFact

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
ACME, BOLT, CORK = (
    CustomerRef(1, "Acme", "K-1"),
    CustomerRef(2, "Bolt", "K-2"),
    CustomerRef(3, "Cork", "K-3"),
)


def ui(workflow_id: str, run_id: str | None) -> str:
    return f"http://ui/{workflow_id}/{run_id}"


def test_kinds_in_order_of_urgency_and_the_biggest_first_within_one() -> None:
    stock = [
        StockFact(1, stocked_out=2, excess=9, data_quality_issues=4),
        StockFact(2, stocked_out=5, runs_out_before_arrival=1, too_much_on_order=3),
        StockFact(3),  # nothing to say
    ]
    orders = [
        OrderFact(1, 11, "in_transit", date(2026, 10, 1), 18_000, date(2026, 11, 20),
                  date(2026, 11, 27), late=True),
        OrderFact(2, 12, "submitted", date(2026, 10, 5), 30_000, date(2026, 11, 25),
                  date(2026, 12, 2), late=True),
        OrderFact(2, 13, "delivered", date(2026, 9, 5), 30_000, date(2026, 10, 25),
                  date(2026, 10, 30), date(2026, 10, 30), late=True),  # delivered: done
        OrderFact(3, 14, "in_transit", date(2026, 10, 5), 9_000, date(2026, 12, 25)),  # on time
    ]  # fmt: skip
    cycles = [
        CycleFact(1, "reorder-cycle-1", "r1", "submission_failed", NOW, "E_CREDIT_LIMIT"),
        CycleFact(2, "reorder-cycle-2", "r2", "syncing", NOW - timedelta(hours=9)),
        CycleFact(3, "reorder-cycle-3", "r3", "syncing", NOW - timedelta(hours=1)),  # moving
        CycleFact(3, "reorder-cycle-3b", None, "awaiting_approval", NOW - timedelta(days=3)),
    ]
    found = exceptions([ACME, BOLT, CORK], stock, orders, cycles, NOW, ui)
    assert [(e.kind, e.customer.erp_code, e.impact) for e in found] == [
        (Kind.STOCKED_OUT, "K-2", 5),
        (Kind.STOCKED_OUT, "K-1", 2),
        (Kind.RUNS_OUT, "K-2", 1),
        (Kind.FAILED_CYCLE, "K-1", 1),
        (Kind.LATE_SHIPMENT, "K-2", 30_000),
        (Kind.LATE_SHIPMENT, "K-1", 18_000),
        (Kind.STUCK_CYCLE, "K-2", 9.0),
        (Kind.DATA_QUALITY, "K-1", 4),
        (Kind.TOO_MUCH_ON_ORDER, "K-2", 3),
        (Kind.EXCESS, "K-1", 9),
    ]
    by_kind = {(e.kind, e.customer.customer_id): e for e in found}
    assert by_kind[Kind.STOCKED_OUT, 2].link == "/customers/2/products?risk=stocked_out"
    late = by_kind[Kind.LATE_SHIPMENT, 1]
    assert late.link == "/customers/1/orders/11"
    assert "7 days after the date first promised" in late.detail
    assert by_kind[Kind.FAILED_CYCLE, 1].detail == "submission failed: E_CREDIT_LIMIT"
    assert by_kind[Kind.STUCK_CYCLE, 2].link == "http://ui/reorder-cycle-2/r2"
    assert by_kind[Kind.DATA_QUALITY, 1].link == "/ops/customers/1/data-quality"


def test_facts_of_unknown_customers_are_left_out() -> None:
    assert exceptions([ACME], [StockFact(9, stocked_out=4)], [], [], NOW, ui) == []


def test_undelivered_messages_come_after_stuck_cycles_with_their_reasons_in_words() -> None:
    cycles = [CycleFact(1, "reorder-cycle-1", "r1", "syncing", NOW - timedelta(hours=7))]
    undelivered = [
        UndeliveredFact(2, "whatsapp", 1, {63016: 1}),
        UndeliveredFact(1, "whatsapp", 3, {63003: 2, None: 1}),
    ]
    found = exceptions(
        [ACME, BOLT], [StockFact(1, data_quality_issues=2)], [], cycles, NOW, ui, undelivered
    )
    assert [(e.kind, e.customer.erp_code, e.impact) for e in found] == [
        (Kind.STUCK_CYCLE, "K-1", 7.0),
        (Kind.UNDELIVERED, "K-1", 3),
        (Kind.UNDELIVERED, "K-2", 1),
        (Kind.DATA_QUALITY, "K-1", 2),
    ]
    acme, bolt = found[1], found[2]
    assert acme.detail == (
        "3 WhatsApp messages not delivered in the last 7 days "
        "(63003 (number not on WhatsApp): 2, no error code: 1)"
    )
    assert acme.link == "/ops/customers/1/messages" and acme.impact_unit == "messages"
    assert bolt.detail.startswith("1 WhatsApp message not delivered")
    assert "63016 (free-form text outside the 24 hours" in bolt.detail
