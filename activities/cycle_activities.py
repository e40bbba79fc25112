"""Every side effect a ReorderCycle needs, as thin activity methods over `services/`.

Each is idempotent, so Temporal may run it more than once: store writes find what an earlier
attempt wrote, and ERP submissions carry an idempotency key the ERP enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import temporal_errors
from activities.heartbeat import heartbeating
from core.metrics import CYCLES, DECISIONS, SUBMISSIONS
from erp.client import ErpClient
from services import cycle_records, ordering, shipments
from services.cycle_records import recommendation_view
from services.recommend import recommend
from services.sync import sync_customer
from workflows.contract.cycle import (
    ApprovalOutcome,
    ApprovalRecord,
    ApproveAndSubmit,
    CloseOrdersRequest,
    CycleRecord,
    PlannedOrder,
    ProposalRecord,
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


class CycleActivities:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], erp: ErpClient) -> None:
        self._sessions = sessions
        self._erp = erp

    @activity.defn(name="sync_customer")
    async def sync_customer(self, request: SyncRequest) -> SyncSummary:
        with temporal_errors():
            async with heartbeating():
                result = await sync_customer(
                    self._sessions,
                    self._erp,
                    request.customer_id,
                    actor=f"cycle:{request.workflow_id}",
                    attempt=activity.info().attempt,
                )
        return SyncSummary(
            products=result.products,
            shipments=result.shipments,
            orders=result.orders,
            rejected_rows=result.data_quality_issues,
            synced_at=result.synced_at,
        )

    @activity.defn(name="recommend")
    async def recommend(self, request: RecommendRequest) -> RecommendationView:
        with temporal_errors():
            async with heartbeating():
                version = await recommend(
                    self._sessions, request.customer_id, actor=f"cycle:{request.workflow_id}"
                )
                view = recommendation_view(version)
                return await cycle_records.with_credit(self._sessions, request.customer_id, view)

    @activity.defn(name="record_cycle")
    async def record_cycle(self, record: CycleRecord) -> None:
        with temporal_errors():
            await cycle_records.record_cycle(self._sessions, record)
        CYCLES.labels(record.status.value).inc()

    @activity.defn(name="record_approval")
    async def record_approval(self, record: ApprovalRecord) -> list[PlannedOrder]:
        """Turn the approved containers (with any edits, re-packed) into orders."""
        with temporal_errors():
            planned, _ = await ordering.record_approval(self._sessions, record)
        _count_approval(record)
        return planned

    @activity.defn(name="approve_and_submit")
    async def approve_and_submit(self, request: ApproveAndSubmit) -> ApprovalOutcome:
        """The approval's orders, each offered to the ERP once (the cycle's local activity)."""
        with temporal_errors():
            outcome = await ordering.approve_and_submit(self._sessions, self._erp, request)
        _count_approval(request.approval)
        if request.cycle is not None:
            CYCLES.labels(request.cycle.status.value).inc()
        for first in outcome.submissions:
            kind = "rejected" if first.rejected else "unanswered"
            SUBMISSIONS.labels("submitted" if first.erp_order_number else kind).inc()
        return outcome

    @activity.defn(name="record_rejection")
    async def record_rejection(self, record: RejectRecord) -> None:
        with temporal_errors():
            await ordering.record_rejection(self._sessions, record)
        DECISIONS.labels("rejected").inc()

    @activity.defn(name="record_proposal")
    async def record_proposal(self, record: ProposalRecord) -> None:
        with temporal_errors():
            await ordering.record_proposal(self._sessions, record)
        DECISIONS.labels("proposed").inc()

    @activity.defn(name="submit_order")
    async def submit_order(self, request: SubmitRequest) -> SubmittedOrder:
        try:
            with temporal_errors():
                submitted = await ordering.submit_order(
                    self._sessions, self._erp, request, attempt=activity.info().attempt
                )
        except ApplicationError as err:
            SUBMISSIONS.labels("rejected" if err.type == "ErpRejected" else "unanswered").inc()
            raise
        except Exception:
            SUBMISSIONS.labels("unanswered").inc()
            raise
        SUBMISSIONS.labels("replayed" if submitted.replayed else "submitted").inc()
        return submitted

    @activity.defn(name="track_orders")
    async def track_orders(self, request: TrackRequest) -> list[TrackedOrder]:
        with temporal_errors():
            async with heartbeating():
                return await shipments.track_orders(self._sessions, self._erp, request)

    @activity.defn(name="close_orders")
    async def close_orders(self, request: CloseOrdersRequest) -> None:
        with temporal_errors():
            await ordering.close_orders(self._sessions, request)

    def erp_calls(self) -> list[Callable[..., Any]]:
        """The activities that call the ERP: they also run on the ERP task queue."""
        return [self.sync_customer, self.submit_order, self.track_orders]

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.sync_customer,
            self.recommend,
            self.record_cycle,
            self.record_approval,
            self.approve_and_submit,
            self.record_rejection,
            self.record_proposal,
            self.submit_order,
            self.track_orders,
            self.close_orders,
        ]


def _count_approval(record: ApprovalRecord) -> None:
    DECISIONS.labels("auto_approved" if record.auto else "approved").inc()
