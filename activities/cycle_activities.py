"""Every side effect a ReorderCycle needs, as thin activity methods over `services/`.

Each is idempotent, so Temporal may run it more than once: store writes find what an earlier
attempt wrote, and ERP submissions carry an idempotency key the ERP enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.errors import temporal_errors
from activities.heartbeat import heartbeating
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
        return recommendation_view(version)

    @activity.defn(name="record_cycle")
    async def record_cycle(self, record: CycleRecord) -> None:
        with temporal_errors():
            await cycle_records.record_cycle(self._sessions, record)

    @activity.defn(name="record_approval")
    async def record_approval(self, record: ApprovalRecord) -> list[PlannedOrder]:
        """Turn the approved containers (with any edits, re-packed) into orders."""
        with temporal_errors():
            planned, _ = await ordering.record_approval(self._sessions, record)
        return planned

    @activity.defn(name="approve_and_submit")
    async def approve_and_submit(self, request: ApproveAndSubmit) -> ApprovalOutcome:
        """The approval's orders, each offered to the ERP once (the cycle's local activity)."""
        with temporal_errors():
            return await ordering.approve_and_submit(self._sessions, self._erp, request)

    @activity.defn(name="record_rejection")
    async def record_rejection(self, record: RejectRecord) -> None:
        with temporal_errors():
            await ordering.record_rejection(self._sessions, record)

    @activity.defn(name="submit_order")
    async def submit_order(self, request: SubmitRequest) -> SubmittedOrder:
        with temporal_errors():
            return await ordering.submit_order(
                self._sessions, self._erp, request, attempt=activity.info().attempt
            )

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
            self.submit_order,
            self.track_orders,
            self.close_orders,
        ]
