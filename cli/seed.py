"""`restock seed-demo`: create the demo customers from the ERP simulator's data, and their users."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Environment, Settings
from store import customer_settings as settings_repo
from store.customers import upsert_customer
from store.db import create_engine, create_session_factory, unit_of_work
from store.models import Role


@dataclass
class SeededCustomer:
    id: int
    erp_code: str
    name: str


async def seed_demo(settings: Settings) -> list[SeededCustomer]:
    from erp.client import open_erp_client
    from erp.simulator.generator import DEMO_CUSTOMERS

    engine = create_engine(settings.database_url)
    try:
        async with open_erp_client(settings) as erp:
            profiles = [await erp.get_customer(spec.code) for spec in DEMO_CUSTOMERS]
        seeded: list[SeededCustomer] = []
        async with unit_of_work(create_session_factory(engine)) as session:
            for profile in profiles:
                row = await upsert_customer(
                    session, erp_code=profile.code, name=profile.name, timezone=profile.timezone
                )
                # The ERP's lead time and container size, not the defaults, from the start.
                await settings_repo.get_or_create(
                    session,
                    row.id,
                    lead_time_weeks=profile.lead_time_weeks,
                    container_capacity_cartons=profile.container_capacity_cartons,
                )
                seeded.append(SeededCustomer(row.id, row.erp_code, row.name))
        return seeded
    finally:
        await engine.dispose()


DEMO_PASSWORD = "restock-demo-password"  # development only; see `demo_password`
OPS_USERNAME = "ops"


@dataclass
class SeededUser:
    username: str
    role: str
    customer: str  # ERP code, or "all" for ops
    password: str | None  # None when the user already existed (its password is unchanged)


def demo_password(settings: Settings) -> str:
    """The well-known demo password in development; a random one anywhere else."""
    from services.accounts import generate_password

    return DEMO_PASSWORD if settings.env is Environment.DEVELOPMENT else generate_password()


def demo_username(erp_code: str) -> str:
    return f"buyer-{erp_code.lower()}"


async def seed_demo_users(settings: Settings, customers: list[SeededCustomer]) -> list[SeededUser]:
    """One customer user per demo customer and one ops user; existing users are kept."""
    from services.accounts import create_user
    from store.accounts import find_user

    engine = create_engine(settings.database_url)
    wanted: list[tuple[str, Role, SeededCustomer | None]] = [
        (demo_username(c.erp_code), Role.CUSTOMER, c) for c in customers
    ]
    wanted.append((OPS_USERNAME, Role.OPS, None))
    seeded: list[SeededUser] = []
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            for username, role, customer in wanted:
                label = customer.erp_code if customer else "all"
                if await find_user(session, username) is not None:
                    seeded.append(SeededUser(username, role.value, label, None))
                    continue
                password = demo_password(settings)
                await create_user(
                    session,
                    username=username,
                    password=password,
                    role=role,
                    customer_id=customer.id if customer else None,
                    actor="cli:seed-demo",
                )
                seeded.append(SeededUser(username, role.value, label, password))
        return seeded
    finally:
        await engine.dispose()
