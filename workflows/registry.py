"""Every workflow the worker runs."""

from __future__ import annotations

from workflows.notification import Notification
from workflows.reorder_cycle import ReorderCycle
from workflows.scheduled_start import ScheduledCycleStart
from workflows.shipment import Shipment
from workflows.stack_check import StackCheck

WORKFLOWS: list[type] = [ReorderCycle, Shipment, Notification, ScheduledCycleStart, StackCheck]
