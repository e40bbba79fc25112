"""Where a workflow sends the activities that call the ERP."""

from __future__ import annotations

from temporalio import workflow

from workflows.contract import names

ERP_TASK_QUEUE_PATCH = "erp-task-queue"


def erp_queue() -> str | None:
    """The ERP queue of the workflow's own task queue (`names.erp_task_queue`); None (the
    workflow's queue) for runs whose history began before ERP calls had their own queue."""
    if workflow.patched(ERP_TASK_QUEUE_PATCH):
        return names.erp_task_queue(workflow.info().task_queue)
    return None
