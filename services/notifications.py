"""Who a message goes to, and the audit trail of messages that could not be sent at once.

Sending itself is a channel's job (the worker's notifier); a message is retried in the
background by its `Notification` workflow, so these record what happened along the way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from core.errors import DependencyUnavailable
from services import confirmations
from store import accounts, audit, snapshots
from store.db import reading, unit_of_work
from workflows.contract import names
from workflows.contract.cycle import Authority
from workflows.contract.notification import (
    NotificationFailure,
    NotificationStart,
    NotifyRequest,
)


async def send_in_background(client: Client, start: NotificationStart, *, task_queue: str) -> None:
    """Hand one message to its own Notification workflow and return at once. The id is the
    message's: a start that is retried, or a message already sent, sends nothing twice."""
    request = start.notification.request
    try:
        await client.start_workflow(
            names.NOTIFICATION,
            start.notification,
            id=start.workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"{'ops' if request.to_ops else 'buyer'}: {request.subject}"[:200],
        )
    except WorkflowAlreadyStartedError:
        return
    except RPCError as err:
        raise DependencyUnavailable("temporal", err.message) from err


# What a buyer is told on WhatsApp too (a copy per number; e-mail still goes to the contacts).
WHATSAPP_KINDS = frozenset({"ready", "reminder", "expired", "submitted", "late", "delivered"})


def whatsapp_copies(
    start: NotificationStart, numbers: list[tuple[int, str]]
) -> list[NotificationStart]:
    """One Notification per WhatsApp number of a buyer-facing message, each under an id of
    its own (so each is sent once, and a failing number does not hold up the others)."""
    request = start.notification.request
    if request.kind not in WHATSAPP_KINDS or request.to_ops or request.to_approvers:
        return []
    return [
        start.model_copy(
            update={
                "workflow_id": f"{start.workflow_id}-wa{user_id}",
                "notification": start.notification.model_copy(
                    update={"request": request.model_copy(update={"to_phone": phone})}
                ),
            }
        )
        for user_id, phone in numbers
    ]


async def whatsapp_numbers(
    sessions: async_sessionmaker[AsyncSession], customer_id: int
) -> list[tuple[int, str]]:
    async with reading(sessions) as session:
        return await accounts.whatsapp_users(session, customer_id)


async def recipients(
    sessions: async_sessionmaker[AsyncSession],
    request: NotifyRequest,
    *,
    ops_email: str,
    whatsapp_carries: frozenset[str] = frozenset(),
) -> list[str]:
    """Ops' address; the one address a message names (`to_email`); for a proposal, the
    customer's approvers whose limit covers it; else (or when no such approver has an
    address) the customer's contacts in its ERP profile, less those of users who chose to be
    told on WhatsApp only (and can be: a number, no STOP) for the kinds in
    `whatsapp_carries`: those WhatsApp is configured to send as an approved template, so it
    reaches them outside the 24-hour window too."""
    if request.to_ops:
        return [ops_email]
    if request.to_email:
        return [request.to_email]
    async with reading(sessions) as session:
        if request.to_approvers:
            able = [
                email
                for email, limit in await accounts.approvers(session, request.customer_id)
                if Authority(
                    role="approver", limit=None if limit is None else Decimal(limit)
                ).covers(request.value)
            ]
            if able:
                return able
        snapshot = await snapshots.get_snapshot(session, request.customer_id)
        by_whatsapp = (
            await accounts.whatsapp_only_emails(session, request.customer_id)
            if request.kind in WHATSAPP_KINDS & whatsapp_carries
            else set()
        )
    contacts = (snapshot.profile or {}).get("contacts", []) if snapshot else []
    return [
        c["email"]
        for c in contacts
        if c.get("email") and str(c["email"]).casefold() not in by_whatsapp
    ]


async def message_body(
    sessions: async_sessionmaker[AsyncSession], request: NotifyRequest, portal_url: str
) -> str:
    """The body as sent: the workflow's text; for the buyer's "order placed", its
    confirmation (each container's ERP order, cartons and value, the total, and the
    document's link); then the link to the customer's portal."""
    body = request.body
    if request.kind == "submitted" and not request.to_ops:
        async with reading(sessions) as session:
            found = await confirmations.latest_of_workflow(
                session, request.customer_id, request.workflow_id
            )
        if found is not None:
            document = (
                f"{portal_url}/api/customers/{request.customer_id}"
                f"/recommendations/{found.version}/confirmation"
            )
            body += (
                f"\n\n{confirmations.as_text(found)}\n\nOrder confirmation: {document}.xlsx "
                f"(PDF: {document}.pdf)"
            )
    return f"{body}\n\nOpen the portal: {portal_url}/customers/{request.customer_id}"


async def record(
    sessions: async_sessionmaker[AsyncSession],
    request: NotifyRequest,
    action: str,
    **details: Any,
) -> None:
    """An audit entry about a message: `notification.failed` (first failure, retried in the
    background), `notification.sent` (after earlier failures), `notification.abandoned`."""
    async with unit_of_work(sessions) as session:
        await audit.append(
            session,
            actor="notifier",
            action=action,
            customer_id=request.customer_id,
            target_type="workflow",
            target_id=request.workflow_id,
            details={
                "kind": request.kind,
                "subject": request.subject,
                "to_ops": request.to_ops,
                **details,
            },
        )


async def record_abandoned(
    sessions: async_sessionmaker[AsyncSession], failure: NotificationFailure
) -> None:
    await record(
        sessions,
        failure.request,
        "notification.abandoned",
        error=failure.failure,
        notification_workflow_id=failure.notification_workflow_id,
    )
