"""`StackCheck`: proves a worker is polling and can reach the database."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.stack_check import StackCheckActivities, StoreCounts


class StackCheckInput(BaseModel):
    note: str = "stack check"


class StackCheckResult(BaseModel):
    note: str
    customers: int
    worker_task_queue: str


@workflow.defn(name="StackCheck")
class StackCheck:
    @workflow.run
    async def run(self, inp: StackCheckInput) -> StackCheckResult:
        counts: StoreCounts = await workflow.execute_activity_method(
            StackCheckActivities.count_customers,
            start_to_close_timeout=timedelta(seconds=10),
            summary="count customers in the store",
        )
        return StackCheckResult(
            note=inp.note, customers=counts.customers, worker_task_queue=workflow.info().task_queue
        )
