"""What `restock dev` does before the processes start and once they are all up."""

from __future__ import annotations

import asyncio

import httpx

from cli.dev import child_env
from core.settings import Settings
from store.customers import count_customers
from store.db import create_engine, create_session_factory
from store.migrate import upgrade


def prepare(settings: Settings) -> None:
    upgrade(settings.database_url)


async def _customer_count(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await count_customers(session)
    finally:
        await engine.dispose()


async def _seed_and_start_cycles(settings: Settings) -> list[str]:
    """First start: demo customers and logins, and a reorder cycle for each customer, so the
    portal has recommendations waiting (the worker syncs and plans them)."""
    from cli.seed import seed_demo, seed_demo_users
    from core.temporal import connect
    from services.cycle_control import cycle_policy, start_cycle
    from store import customer_settings as settings_repo
    from store.db import create_engine, create_session_factory, unit_of_work

    customers = await seed_demo(settings)
    users = await seed_demo_users(settings, customers)
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            # Each customer's own reminder, expiry and auto-approval settings.
            policies = {
                c.id: cycle_policy(await settings_repo.get_or_create(session, c.id))
                for c in customers
            }
    finally:
        await engine.dispose()
    client = await connect(settings)
    for customer in customers:
        await start_cycle(
            client,
            customer_id=customer.id,
            customer_name=customer.name,
            task_queue=settings.temporal_task_queue,
            policy=policies[customer.id],
            started_by="restock dev",
            erp_customer=customer.erp_code,
        )
    notes = ["seeded demo customers and started a cycle for each: "]
    notes[0] += ", ".join(c.name for c in customers)
    notes += [f"login {u.username:<22} password {u.password}" for u in users if u.password]
    return notes


def when_ready(settings: Settings, *, seed: bool = True) -> list[str]:
    env = child_env(settings)
    local = settings.model_copy(
        update={
            "erp_base_url": env["RESTOCK_ERP_BASE_URL"],
            "temporal_address": env["RESTOCK_TEMPORAL_ADDRESS"],
        }
    )
    notes: list[str] = []
    if seed and asyncio.run(_customer_count(local)) == 0:
        try:
            notes += asyncio.run(_seed_and_start_cycles(local))
        except Exception as exc:  # the stack still runs; say why seeding did not
            notes.append(f"could not seed demo data: {exc}")
    api = f"http://{settings.api_host}:{settings.api_port}"
    try:
        ready = httpx.get(f"{api}/readyz", timeout=5).json()
        readiness = ready.get("status", "?") + (
            f" (down: {', '.join(ready['down'])})" if ready.get("down") else ""
        )
    except httpx.HTTPError as exc:
        readiness = f"unknown ({exc})"
    notes += [
        f"Portal and API   {api}/",
        f"API docs         {api}/docs",
        f"Temporal UI      {env['RESTOCK_TEMPORAL_UI_URL']}",
        f"ERP simulator    {env['RESTOCK_ERP_BASE_URL']}/docs",
        f"WhatsApp sim     http://127.0.0.1:{settings.channel_sim_port}/phones/<number> "
        "(a user's number: restock users set-phone)",
        f"readiness        {readiness}",
    ]
    return notes
