"""The contract of `StackCheck`, the smoke workflow that proves a worker reaches the store."""

from __future__ import annotations

from pydantic import BaseModel


class StackCheckInput(BaseModel):
    note: str = "stack check"


class StackCheckResult(BaseModel):
    note: str
    customers: int
    worker_task_queue: str


class StoreCounts(BaseModel):
    customers: int
