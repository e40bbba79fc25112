"""Customer API fixtures: tenants synced from the ERP simulator, users, tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import tokens
from core.settings import Settings
from erp.client import ErpClient
from erp.simulator.generator import DEMO_MEDIUM, DEMO_SMALL
from services.accounts import ApprovalGrant, create_user
from services.recommend import recommend
from services.sync import sync_customer
from store import customer_settings as settings_repo
from store import cycles as cycles_repo
from store import orders as orders_repo
from store.customers import upsert_customer
from store.db import unit_of_work
from store.models import OrderSource, OrderStatus, Role, User

PASSWORD = "correct horse battery staple"


@dataclass
class Tenant:
    customer_id: int
    erp_code: str
    version: int
    order_id: int
    cycle_id: int


@dataclass
class Tenants:
    a: Tenant
    b: Tenant
    buyer_a: str  # bearer tokens
    buyer_b: str
    ops: str


async def add_user(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    role: Role,
    customer_id: int | None = None,
    grant: ApprovalGrant | None = None,
) -> User:
    async with unit_of_work(sessions) as session:
        return await create_user(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            customer_id=customer_id,
            actor="test",
            approval_grant=grant,
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def onboard(sessions: async_sessionmaker[AsyncSession], erp: ErpClient, code: str) -> Tenant:
    """The real path: sync from the ERP simulator, plan, then an approved order and a cycle
    as the workflow would record them."""
    async with unit_of_work(sessions) as session:
        customer = await upsert_customer(session, erp_code=code, name=code, timezone="UTC")
        customer_id = customer.id
        # The routes need containers to show: ship a last container as it is, rather than
        # let the default policy wait a review for a fuller one.
        await settings_repo.get_or_create(session, customer_id, last_container="keep")
    await sync_customer(sessions, erp, customer_id)
    version = await recommend(sessions, customer_id)
    async with unit_of_work(sessions) as session:
        order = await orders_repo.create_order(
            session,
            customer_id=customer_id,
            status=OrderStatus.APPROVED,
            source=OrderSource.RESTOCK,
            ordered_on=date.today(),
            lines=[
                {"product_code": line.product_code, "quantity": line.quantity}
                for line in version.lines[:3]
            ],
            actor="user:test",
            idempotency_key=f"{code}-v{version.version}",
            recommendation_version=version.version,
        )
        cycle = await cycles_repo.record_cycle(
            session,
            workflow_id=f"reorder-cycle-{customer_id}",
            customer_id=customer_id,
            status="awaiting_approval",
            recommendation_version=version.version,
        )
        return Tenant(customer_id, code, version.version, order.id, cycle.id)


@pytest.fixture
async def tenants(
    sessions: async_sessionmaker[AsyncSession], erp_client: ErpClient, app_settings: Settings
) -> Tenants:
    a = await onboard(sessions, erp_client, DEMO_SMALL)
    b = await onboard(sessions, erp_client, DEMO_MEDIUM)
    users = [
        await add_user(sessions, "buyer-a", Role.CUSTOMER, a.customer_id),
        await add_user(sessions, "buyer-b", Role.CUSTOMER, b.customer_id),
        await add_user(sessions, "ops", Role.OPS),
    ]
    issued = [tokens.issue(app_settings, user).token for user in users]
    return Tenants(a, b, *issued)


TokenFor = Callable[[str, Role, int | None], Awaitable[str]]


@pytest.fixture
def token_for(sessions: async_sessionmaker[AsyncSession], app_settings: Settings) -> TokenFor:
    """Make a user and return a bearer token for it (for tests seeding through repositories)."""

    async def make(username: str, role: Role, customer_id: int | None = None) -> str:
        user = await add_user(sessions, username, role, customer_id)
        return tokens.issue(app_settings, user).token

    return make
