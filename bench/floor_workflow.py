"""A trivial workflow for bench/cycle.py's floor: an Update that answers at once.

In a module of its own because the workflow sandbox re-imports workflow modules (a script's
`__main__` cannot be).
"""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="BenchFloor")
class BenchFloor:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    async def ping(self, n: int) -> int:
        return n + 1

    @workflow.signal
    def finish(self) -> None:
        self._done = True
