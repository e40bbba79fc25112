"""Workflow types, their message names and workflow ids: what callers address by name, so
that they need no workflow definition to start, signal, update or query one."""

from __future__ import annotations

REORDER_CYCLE = "ReorderCycle"
SHIPMENT = "Shipment"
NOTIFICATION = "Notification"
SCHEDULED_CYCLE_START = "ScheduledCycleStart"

# ReorderCycle's Updates and its query
APPROVE = "approve"
PROPOSE = "propose"
REJECT = "reject"
REFRESH = "refresh"
REVIEW = "review"
RETRY = "retry"
CANCEL = "cancel"
STATUS = "status"

# Shipment's signal (its query is STATUS too)
ERP_EVENT = "erp_event"

CYCLE_PREFIX = "reorder-cycle-"
SHIPMENT_PREFIX = "shipment-"


def cycle_workflow_id(customer_id: int) -> str:
    return f"{CYCLE_PREFIX}{customer_id}"


def shipment_workflow_id(customer_id: int, erp_order_number: str) -> str:
    """One per ERP order: the customer and the ERP's order number."""
    return f"{SHIPMENT_PREFIX}{customer_id}-{erp_order_number}"


def notification_workflow_id(workflow_id: str, run_id: str, number: int) -> str:
    """The `number`th message of one run of `workflow_id`. The whole run id: run ids share
    their leading (time) digits with runs started in the same minute."""
    return f"notify-{workflow_id}-{run_id}-{number}"


def erp_task_queue(task_queue: str) -> str:
    """The queue of the activities that call the ERP, beside the workflows' queue: its
    workers carry the ERP's rate limit and concurrency cap."""
    return f"{task_queue}-erp"
