"""Customer queries. Repositories flush; the caller's scope commits."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Customer


async def upsert_customer(
    session: AsyncSession, *, erp_code: str, name: str, timezone: str
) -> Customer:
    customer = await session.scalar(select(Customer).where(Customer.erp_code == erp_code))
    if customer is None:
        customer = Customer(erp_code=erp_code, name=name, timezone=timezone)
        session.add(customer)
    else:
        customer.name = name
        customer.timezone = timezone
    await session.flush()
    return customer


async def count_customers(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Customer)) or 0


async def list_customers(session: AsyncSession) -> list[Customer]:
    return list(await session.scalars(select(Customer).order_by(Customer.id)))
