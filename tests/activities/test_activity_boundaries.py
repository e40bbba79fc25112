"""What crosses an activity's edge: our errors become Temporal errors a retry policy reads
right (a domain error is not retried), and a message carries the public portal link and
audits a failed first attempt (run in Temporal's ActivityEnvironment, on a real database)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.errors import temporal_errors
from activities.notification_activities import NotificationActivities
from activities.notifier import LogNotifier, Message
from core.errors import Conflict, DependencyUnavailable, InvalidInput, NotFound
from core.settings import Environment, Settings
from erp.errors import ErpBadData, ErpNotFound, ErpRejected, ErpUnavailable
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import AuditEntry
from workflows.contract.notification import NotifyRequest


@pytest.mark.parametrize(
    ("error", "type_name", "retried"),
    [
        (NotFound("customer 7 not found"), "NotFound", False),
        (Conflict("customer 7 has no ERP snapshot yet"), "Conflict", False),
        (InvalidInput("bad"), "InvalidInput", False),
        (ErpRejected("E_CREDIT_HOLD", "on hold"), "ErpRejected", False),
        (ErpBadData("not JSON"), "ErpBadData", False),
        (ErpNotFound("no order"), "ErpNotFound", False),
        (ErpUnavailable("503", retry_after=7), "ErpUnavailable", True),
    ],
)
def test_domain_errors_are_not_retried_and_outages_are(
    error: Exception, type_name: str, retried: bool
) -> None:
    with pytest.raises(ApplicationError) as raised, temporal_errors():
        raise error
    assert raised.value.type == type_name
    assert raised.value.non_retryable is not retried
    if isinstance(error, ErpUnavailable):
        assert raised.value.next_retry_delay is not None
        assert raised.value.next_retry_delay.total_seconds() == 7


def test_an_unexpected_error_stays_as_it_is_and_retried() -> None:
    with pytest.raises(DependencyUnavailable), temporal_errors():
        raise DependencyUnavailable("database", "gone")


class FailingNotifier:
    async def send(self, message: Message) -> None:
        raise ConnectionRefusedError(111, "Connection refused")


SETTINGS = Settings(
    env=Environment.TEST, public_url="https://restock.example.com/", ops_email="ops@example.com"
)


async def test_a_message_links_to_the_public_portal_url(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    notifier = LogNotifier()
    activities = NotificationActivities(settings=SETTINGS, sessions=sessions, notifier=notifier)
    request = NotifyRequest(
        customer_id=7, workflow_id="reorder-cycle-7", kind="late", subject="s", body="late",
        to_ops=True,
    )  # fmt: skip
    await ActivityEnvironment().run(activities.notify, request)
    [sent] = notifier.sent
    assert sent.to == ["ops@example.com"]
    assert sent.body.endswith("Open the portal: https://restock.example.com/customers/7")


async def test_a_failed_first_attempt_is_audited_and_raised_for_a_retry(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code="K-1", name="K", timezone="UTC")
        customer_id = customer.id
    activities = NotificationActivities(
        settings=SETTINGS, sessions=sessions, notifier=FailingNotifier()
    )
    request = NotifyRequest(
        customer_id=customer_id, workflow_id="w", kind="late", subject="Late", body="b",
        to_ops=True,
    )  # fmt: skip
    env = ActivityEnvironment()
    for attempt in (1, 2):
        env.info = dataclasses.replace(env.info, attempt=attempt)
        with pytest.raises(ConnectionRefusedError):
            await env.run(activities.notify, request)
    async with sessions() as session:
        audited = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "notification.failed")
            )
        )
    [entry] = audited  # the first failure only: retries are not a line each
    assert entry.customer_id == customer_id
    assert entry.details["kind"] == "late" and entry.details["retrying"] is True
    assert "Connection refused" in entry.details["error"]


def test_a_huge_error_gets_a_short_headline_with_the_rest_in_its_details() -> None:
    noise = "row 17: ITEM_CODE missing; " * 2_000
    with pytest.raises(ApplicationError) as raised, temporal_errors():
        raise ErpBadData(noise)
    assert len(raised.value.message) <= 500 and raised.value.message.endswith("…")
    [detail] = raised.value.details
    assert isinstance(detail, str) and detail.startswith("ErpBadData: ") and len(detail) <= 2_000
    assert raised.value.__cause__ is None  # no chained dump of the whole message
