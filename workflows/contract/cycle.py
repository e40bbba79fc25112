"""The ReorderCycle's contract: its input, state and statuses, its Updates' payloads, and
what its activities take and return.

They carry ids and values, never ORM objects, and hold everything the workflow's update
validators need to decide without I/O (pack sizes, MOQs and status for edited quantities).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from workflows.contract.shipment import ShipmentPolicy


class CycleStatus(StrEnum):
    SYNCING = "syncing"
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    REFRESHING = "refreshing"
    APPROVING = "approving"
    SUBMITTING = "submitting"
    SUBMISSION_FAILED = "submission_failed"
    SUBMITTED = "submitted"
    TRACKING = "tracking"
    COMPLETED = "completed"
    NOTHING_TO_ORDER = "nothing_to_order"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FAILED = "failed"


FINAL_STATUSES = frozenset(
    {
        CycleStatus.FAILED,
        CycleStatus.SUBMITTED,
        CycleStatus.COMPLETED,
        CycleStatus.NOTHING_TO_ORDER,
        CycleStatus.REJECTED,
        CycleStatus.EXPIRED,
        CycleStatus.CANCELLED,
    }
)


class CyclePolicy(BaseModel):
    """How long a cycle waits and what it does meanwhile (per customer, from its settings)."""

    remind_every: timedelta = timedelta(days=2)
    expire_after: timedelta = timedelta(days=7)
    auto_approve_urgent_after: timedelta | None = Field(
        default=None, description="Approve urgent containers by policy after this grace period"
    )
    auto_approve_max_containers: int | None = Field(
        default=None, ge=1, description="An auto-approval takes at most this many containers"
    )
    auto_approve_max_cartons: int | None = Field(
        default=None, ge=1, description="An auto-approval takes at most this many cartons"
    )
    auto_approve_max_value: Decimal | None = Field(
        default=None, gt=0, description="An auto-approval takes at most this much value"
    )
    track_poll_initial: timedelta = timedelta(minutes=5)
    track_poll_max: timedelta = timedelta(hours=6)
    submit_retry_for: timedelta = timedelta(hours=24)
    submit_attempt_timeout: timedelta = Field(
        default=timedelta(seconds=30),
        description="Start-to-close of one ERP submission attempt; a slower attempt is retried "
        "with the same idempotency key",
    )
    refresh_sync_for: timedelta = Field(
        default=timedelta(minutes=5),
        description="How long a refresh retries its ERP sync before the cycle gives up on it "
        "and keeps waiting on the recommendation it has",
    )
    shipment_continue_after_events: int = Field(
        default=2_000,
        ge=50,
        description="A shipment continues as new once its history holds this many events",
    )

    def shipment_policy(self) -> ShipmentPolicy:
        return ShipmentPolicy(
            poll_initial=self.track_poll_initial,
            poll_max=self.track_poll_max,
            continue_after_events=self.shipment_continue_after_events,
        )


class CycleInput(BaseModel):
    customer_id: int
    customer_name: str
    erp_customer: str | None = Field(default=None, description="The customer's code in the ERP")
    policy: CyclePolicy = Field(default_factory=CyclePolicy)
    started_by: str = "schedule"


# --- activities' requests and results ------------------------------------------------------


class SyncRequest(BaseModel):
    customer_id: int
    workflow_id: str


class SyncSummary(BaseModel):
    products: int
    shipments: int
    orders: int
    rejected_rows: int
    synced_at: datetime


class RecommendRequest(BaseModel):
    customer_id: int
    workflow_id: str


class LineView(BaseModel):
    product_code: str
    name: str
    quantity: int
    pack_size: int
    moq: int
    urgent: bool
    discontinued: bool = False
    carton_weight_kg: float | None = None
    carton_volume_m3: float | None = None
    unit_price: Decimal | None = Field(default=None, description="Per carton in this container")


MAX_ADDED = 500
"""Products the recommendation does not order that one approval may add."""


class AddedProduct(BaseModel):
    """A product the recommendation does not order, added by the buyer: its quantity is in
    the approval's `edits`; these are its facts from the customer's latest sync, which the
    API reads, so the cycle can check and pack it like a line."""

    product_code: str
    name: str
    pack_size: int
    moq: int = 0
    discontinued: bool = False
    carton_weight_kg: float | None = None
    carton_volume_m3: float | None = None
    unit_price: Decimal | None = Field(default=None, description="Per carton at its quantity")

    def as_line(self) -> LineView:
        return LineView(
            product_code=self.product_code,
            name=self.name,
            quantity=0,
            pack_size=self.pack_size,
            moq=self.moq,
            urgent=False,
            discontinued=self.discontinued,
            carton_weight_kg=self.carton_weight_kg,
            carton_volume_m3=self.carton_volume_m3,
            unit_price=self.unit_price,
        )


class ContainerView(BaseModel):
    index: int
    cartons: int
    fill_pct: float
    urgent: bool
    lines: list[LineView]
    value: Decimal | None = Field(default=None, description="Of its priced lines")
    unpriced_lines: int = Field(default=0, description="Lines without a price, not in value")

    @property
    def known_value(self) -> Decimal | None:
        """Its value when every line is priced; None when it cannot be known."""
        return None if self.unpriced_lines else self.value


class ContainerLimitsView(BaseModel):
    """The container the recommendation was packed for: edits are held to it."""

    cartons: int
    weight_kg: float | None = None
    volume_m3: float | None = None


class RecommendationView(BaseModel):
    version: int
    summary: str
    containers: list[ContainerView]
    limits: ContainerLimitsView | None = Field(
        default=None, description="None in views recorded before limits were checked"
    )
    credit_hold: bool = Field(
        default=False,
        description="The ERP had the customer's credit on hold at the sync it was planned on",
    )
    available_credit: Decimal | None = Field(
        default=None,
        description="Credit limit minus open balance at that sync; None: no limit stated",
    )
    currency: str | None = None

    @property
    def urgent_indexes(self) -> list[int]:
        return [c.index for c in self.containers if c.urgent]


class CycleRecord(BaseModel):
    """One state change of the cycle, written to the read model and the audit log."""

    workflow_id: str
    run_id: str
    customer_id: int
    status: CycleStatus
    recommendation_version: int | None = None
    detail: str | None = None
    actor: str = "workflow"


class ApprovalRecord(BaseModel):
    customer_id: int
    workflow_id: str
    run_id: str
    version: int
    containers: list[int]
    edits: dict[str, int] = Field(default_factory=dict)
    added: list[AddedProduct] = Field(
        default_factory=list,
        description="Products the recommendation does not order that the edits add",
    )
    actor: str
    auto: bool = False
    credit_override: str | None = None
    proposed_by: str | None = Field(default=None, description="Whose proposal this approves")


class ProposalRecord(BaseModel):
    """A proposal to audit: who proposed what, worth how much, on which version."""

    customer_id: int
    workflow_id: str
    proposal: Proposal


class PlannedOrder(BaseModel):
    order_id: int
    container_index: int
    idempotency_key: str
    cartons: int
    lines: list[tuple[str, int]]


class FirstSubmission(BaseModel):
    """One container's first ERP attempt, made inside the approval: submitted (an ERP order
    number), refused by the ERP (`rejected`, with the reason), or left pending (`failure`
    says why: the ERP was slow or down) for the retried submission."""

    order_id: int
    erp_order_number: str | None = None
    eta: date | None = None
    failure: str | None = None
    rejected: bool = False


class ApprovalOutcome(BaseModel):
    planned: list[PlannedOrder]
    submissions: list[FirstSubmission]


class ApproveAndSubmit(BaseModel):
    approval: ApprovalRecord
    attempt_timeout: timedelta = Field(description="How long each first attempt may take")
    cycle: CycleRecord | None = Field(
        default=None, description="The cycle's status to record with the ERP's answers"
    )


class SubmitRequest(BaseModel):
    customer_id: int
    order_id: int
    idempotency_key: str


class SubmittedOrder(BaseModel):
    order_id: int
    erp_order_number: str
    eta: date | None = None
    replayed: bool = False


class TrackRequest(BaseModel):
    customer_id: int
    order_ids: list[int]


class TrackedOrder(BaseModel):
    order_id: int
    erp_order_number: str | None
    status: str
    eta: date | None = None
    delivered_on: date | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("delivered", "cancelled")


class CloseOrdersRequest(BaseModel):
    customer_id: int
    order_ids: list[int]
    status: str
    reason: str
    actor: str


class RejectRecord(BaseModel):
    customer_id: int
    workflow_id: str
    version: int
    reason: str
    actor: str


# --- updates and query ----------------------------------------------------------------------

OVER_LIMIT_FIELD = "approval_limit"
"""The field a refusal names when an approval is above its author's limit (it is proposed)."""


class Authority(BaseModel):
    """The caller's right to decide, as the API knows it (the update is signed, so the cycle
    trusts it): `ops`, or a customer user's role and approval limit."""

    role: str = Field(description="ops | approver | buyer | viewer")
    limit: Decimal | None = Field(
        default=None, description="The most this user approves at once; None: no limit"
    )

    @property
    def may_propose(self) -> bool:
        return self.role in PROPOSING_ROLES

    def covers(self, value: Decimal | None) -> bool:
        """Whether this caller may approve a choice worth `value` (None: unknown, a line has
        no price). Ops and approvers without a limit approve anything; a buyer without a
        limit approves nothing himself (he proposes); a viewer nothing at all."""
        if self.role == "ops" or (self.role == "approver" and self.limit is None):
            return True
        if not self.may_propose or value is None:
            return False
        return value <= (self.limit if self.limit is not None else Decimal(0))


PROPOSING_ROLES = frozenset({"ops", "approver", "buyer"})


class ApproveRequest(BaseModel):
    version: int = Field(description="The recommendation version the approver saw")
    containers: list[int] | None = Field(
        default=None, description="Container indexes to approve; all when omitted"
    )
    edits: dict[str, int] = Field(
        default_factory=dict, description="Product code -> new quantity in cartons (0 removes)"
    )
    added: list[AddedProduct] = Field(
        default_factory=list,
        description="Products the recommendation does not order that the edits add",
    )
    actor: str
    credit_override: str | None = Field(
        default=None,
        description="Why operations staff approve although the ERP has the credit on hold "
        "(the API lets only them set it; audited)",
    )
    authority: Authority | None = Field(
        default=None,
        description="Who approves; None from callers without users (policy, tools): no limit",
    )


class ProposeRequest(BaseModel):
    """A choice that is above its author's approval limit: it waits for an approver."""

    version: int
    containers: list[int] | None = None
    edits: dict[str, int] = Field(default_factory=dict)
    added: list[AddedProduct] = Field(
        default_factory=list,
        description="Products the recommendation does not order that the edits add",
    )
    actor: str
    authority: Authority


class Proposal(BaseModel):
    version: int
    containers: list[int] = Field(description="Container indexes proposed")
    edits: dict[str, int] = Field(default_factory=dict)
    added: list[AddedProduct] = Field(
        default_factory=list,
        description="Products the recommendation does not order that the edits add",
    )
    actor: str
    at: datetime
    value: Decimal | None = Field(default=None, description="What they are worth; None: unpriced")


class OrderView(BaseModel):
    order_id: int
    container_index: int
    idempotency_key: str
    cartons: int
    status: str = "approved"
    erp_order_number: str | None = None
    eta: date | None = None
    failure: str | None = None
    shipment_workflow_id: str | None = Field(
        default=None, description="The Shipment workflow that follows this order"
    )


class ApproveResult(BaseModel):
    version: int
    orders: list[OrderView]


class RejectRequest(BaseModel):
    version: int
    reason: str = Field(min_length=1)
    actor: str


class RefreshRequest(BaseModel):
    actor: str


class ReviewRequest(BaseModel):
    """A review on the customer's cadence (its Schedule, or ops "start now") that found this
    cycle open."""

    actor: str = "schedule"


class ReviewOutcome(BaseModel):
    action: str = Field(description="refreshed | skipped")
    reason: str
    version: int | None = Field(default=None, description="The recommendation now waiting")


class OpsRequest(BaseModel):
    actor: str
    reason: str = ""


class Decision(BaseModel):
    kind: str
    actor: str
    at: datetime
    reason: str | None = None
    auto: bool = False


class CycleState(BaseModel):
    workflow_id: str
    customer_id: int
    customer_name: str
    status: CycleStatus
    recommendation: RecommendationView | None = None
    decision: Decision | None = None
    orders: list[OrderView] = Field(default_factory=list)
    failure: str | None = None
    reminders_sent: int = 0
    waiting_since: datetime | None = None
    expires_at: datetime | None = None
    proposal: Proposal | None = Field(
        default=None, description="A choice waiting for an approver (of the current version)"
    )


# What each Update answers with, by its name (workflows.contract.names).
UPDATE_RESULTS: dict[str, type[BaseModel]] = {
    "approve": ApproveResult,
    "propose": CycleState,
    "reject": CycleState,
    "refresh": CycleState,
    "review": ReviewOutcome,
    "retry": CycleState,
    "cancel": CycleState,
}
