"""Builds every activity with its dependencies; the worker registers what this returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.cycle_activities import CycleActivities
from activities.notification_activities import NotificationActivities
from activities.notifier import Notifier, build_notifier
from activities.schedule_activities import ScheduleActivities
from activities.shipment_activities import ShipmentActivities
from activities.stack_check import StackCheckActivities
from activities.whatsapp import build_whatsapp
from core.settings import Settings
from erp.client import ErpClient


@dataclass
class ActivityDeps:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    erp: ErpClient
    notifier: Notifier | None = None


def build_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """Every activity, for the workflows' task queue (runs from before the ERP queue still
    send their ERP calls there)."""
    stack_check = StackCheckActivities(deps.sessions)
    cycle = CycleActivities(sessions=deps.sessions, erp=deps.erp)
    shipment = ShipmentActivities(sessions=deps.sessions, erp=deps.erp)
    notification = NotificationActivities(
        settings=deps.settings,
        sessions=deps.sessions,
        notifier=deps.notifier or build_notifier(deps.settings),
        whatsapp=build_whatsapp(deps.settings),
    )
    schedules = ScheduleActivities(settings=deps.settings, sessions=deps.sessions)
    return [
        stack_check.count_customers,
        *cycle.all(),
        *shipment.all(),
        *notification.all(),
        schedules.start_scheduled_cycle,
    ]


def build_erp_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """The activities that call the ERP, for the ERP task queue."""
    cycle = CycleActivities(sessions=deps.sessions, erp=deps.erp)
    shipment = ShipmentActivities(sessions=deps.sessions, erp=deps.erp)
    return [*cycle.erp_calls(), *shipment.erp_calls()]
