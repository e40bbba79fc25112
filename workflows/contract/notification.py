"""The Notification workflow's contract: one message to a customer's contacts or to ops."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, Field


class NotifyRequest(BaseModel):
    customer_id: int
    workflow_id: str = Field(description="The workflow the message is about")
    kind: str = Field(
        description="ready | reminder | expired | submission_failed | review_skipped | shipped "
        "| eta_changed | late | delivered | erp_unreadable | approval_requested"
    )
    subject: str
    body: str
    to_ops: bool = False
    to_approvers: bool = Field(
        default=False,
        description="To the customer's approvers whose limit covers `value` (a proposal), "
        "else its contacts",
    )
    value: Decimal | None = Field(default=None, description="What a proposal is worth")
    to_phone: str | None = Field(
        default=None,
        description="A customer user's WhatsApp number (E.164): this copy of the message goes "
        "there, not by e-mail",
    )
    to_email: str | None = Field(
        default=None,
        description="One address this message goes to instead of its usual recipients: a "
        "user told on WhatsApp only whose WhatsApp copy could not be delivered",
    )


class NotificationInput(BaseModel):
    request: NotifyRequest
    retry_for: timedelta = Field(
        default=timedelta(hours=24),
        description="How long delivery is retried before the message is given up (audited)",
    )


class NotificationStart(BaseModel):
    """Start a Notification workflow under this id (unique per message: a retried start
    sends nothing twice)."""

    workflow_id: str
    notification: NotificationInput


class NotificationResult(BaseModel):
    delivered: bool
    failure: str | None = None


class NotificationFailure(BaseModel):
    """A message given up after `retry_for`: audited, and told to ops when it was the
    customer's."""

    request: NotifyRequest
    notification_workflow_id: str
    failure: str
