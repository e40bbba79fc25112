"""Every workflow the worker runs."""

from __future__ import annotations

from workflows.reorder_cycle import ReorderCycle
from workflows.scheduled_start import ScheduledCycleStart
from workflows.stack_check import StackCheck

WORKFLOWS: list[type] = [ReorderCycle, ScheduledCycleStart, StackCheck]
