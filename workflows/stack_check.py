"""`StackCheck`: proves a worker is polling and can reach the database."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contract.stack_check import StackCheckInput, StackCheckResult, StoreCounts


@workflow.defn(name="StackCheck")
class StackCheck:
    @workflow.run
    async def run(self, inp: StackCheckInput) -> StackCheckResult:
        counts: StoreCounts = await workflow.execute_activity(
            "count_customers",
            result_type=StoreCounts,
            start_to_close_timeout=timedelta(seconds=10),
            summary="count customers in the store",
        )
        return StackCheckResult(
            note=inp.note, customers=counts.customers, worker_task_queue=workflow.info().task_queue
        )
