"""Activities for the stack check: a real round trip worker → database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from store.db import reading
from store.models import Customer
from workflows.contract.stack_check import StoreCounts


class StackCheckActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="count_customers")
    async def count_customers(self) -> StoreCounts:
        async with reading(self._sessions) as session:
            count = await session.scalar(select(func.count()).select_from(Customer))
        return StoreCounts(customers=count or 0)
