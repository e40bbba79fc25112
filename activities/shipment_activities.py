"""What a Shipment needs outside itself: to be started, ask the ERP, write the read model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.errors import temporal_errors
from erp.client import ErpClient
from services import shipments
from workflows.contract.shipment import (
    Observation,
    ShipmentCheck,
    ShipmentRecord,
    ShipmentStart,
)


class ShipmentActivities:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], erp: ErpClient) -> None:
        self._sessions = sessions
        self._erp = erp

    @activity.defn(name="start_shipment")
    async def start_shipment(self, start: ShipmentStart) -> bool:
        """Start the order's Shipment on this worker's task queue (kept if it runs already)."""
        with temporal_errors():
            return await shipments.start_shipment(
                activity.client(), start, task_queue=activity.info().task_queue
            )

    @activity.defn(name="check_shipment")
    async def check_shipment(self, check: ShipmentCheck) -> Observation:
        with temporal_errors():
            return await shipments.check_shipment(self._sessions, self._erp, check)

    @activity.defn(name="record_shipment")
    async def record_shipment(self, record: ShipmentRecord) -> None:
        with temporal_errors():
            await shipments.record_shipment(self._sessions, record)

    def erp_calls(self) -> list[Callable[..., Any]]:
        return [self.check_shipment]

    def all(self) -> list[Callable[..., Any]]:
        return [self.start_shipment, self.check_shipment, self.record_shipment]
