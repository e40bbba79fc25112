"""`restock seed-demo`, `restock users add/list/disable` and `restock sync` against real stores."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from cli.main import app
from cli.seed import DEMO_PASSWORD
from core.settings import get_settings
from store.db import create_engine, create_session_factory
from store.models import Customer, CustomerSettings
from tests.plugins.erp_sim import ErpSim


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    erp_sim: ErpSim,
    sessions: async_sessionmaker[AsyncSession],
) -> Iterator[CliRunner]:
    for name, value in {
        "RESTOCK_ENV": "test",
        "RESTOCK_DATABASE_URL": database_url,
        "RESTOCK_ERP_BASE_URL": erp_sim.base_url,
        "RESTOCK_ERP_API_KEY": erp_sim.api_key,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_seed_demo_creates_users_with_random_passwords_outside_development(
    cli_env: CliRunner,
) -> None:
    result = cli_env.invoke(app, ["seed-demo"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for username in ("buyer-k-10040", "buyer-k-20400", "buyer-k-34000", "ops"):
        assert username in result.output
    assert DEMO_PASSWORD not in result.output  # env=test: never the well-known password
    again = cli_env.invoke(app, ["seed-demo"], terminal_width=200)
    assert again.exit_code == 0 and again.output.count("(unchanged)") == 4
    listing = cli_env.invoke(app, ["users", "list"], terminal_width=200)
    assert "K-10040" in listing.output and "all" in listing.output


def test_seeded_customers_start_with_the_erps_lead_time_and_container(
    cli_env: CliRunner, erp_sim: ErpSim, database_url: str
) -> None:
    """Not the 10 weeks and 90,000 cartons of the defaults: the demo cycles plan with what
    the ERP says from their first plan on."""
    assert cli_env.invoke(app, ["seed-demo"], terminal_width=200).exit_code == 0

    async def stored() -> list[tuple[str, CustomerSettings]]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as session:
                result = await session.execute(
                    select(Customer.erp_code, CustomerSettings).join(
                        CustomerSettings, CustomerSettings.customer_id == Customer.id
                    )
                )
                return [(code, row) for code, row in result.all()]
        finally:
            await engine.dispose()

    rows = asyncio.run(stored())
    assert {code for code, _ in rows} == {"K-10040", "K-20400", "K-34000"}
    for code, row in rows:
        profile = erp_sim.world.customer(code).profile
        assert row.lead_time_weeks == profile.lead_time_weeks, code
        assert row.container_capacity_cartons == profile.container_capacity_cartons, code


def test_users_add_disable_and_sync(cli_env: CliRunner) -> None:
    synced = cli_env.invoke(app, ["sync", "K-10040"], terminal_width=200)
    assert synced.exit_code == 0, synced.output
    assert "40 products" in synced.output and "recommendation v1 (new)" in synced.output
    resynced = cli_env.invoke(app, ["sync", "K-10040"], terminal_width=200)
    assert "unchanged since the last sync" in resynced.output
    assert "recommendation v1 (unchanged)" in resynced.output
    added = cli_env.invoke(
        app,
        ["users", "add", "Alice", "--role", "customer", "--customer", "K-10040", "--generate"],
        terminal_width=200,
    )
    assert added.exit_code == 0, added.output
    assert "password: " in added.output
    short = cli_env.invoke(
        app, ["users", "add", "bob", "--role", "ops", "--password", "short"], terminal_width=200
    )
    assert short.exit_code == 1 and "at least 12" in short.output
    unknown = cli_env.invoke(
        app,
        ["users", "add", "carol", "--role", "customer", "--customer", "NOPE", "--generate"],
        terminal_width=200,
    )
    assert unknown.exit_code != 0
    duplicate = cli_env.invoke(
        app, ["users", "add", "ALICE", "--role", "ops", "--generate"], terminal_width=200
    )
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    limited = cli_env.invoke(
        app,
        ["users", "set-approval", "alice", "--customer-role", "buyer", "--approval-limit", "2500"],
        terminal_width=200,
    )
    assert limited.exit_code == 0 and "alice: buyer, limit 2500" in limited.output
    for bad in (
        ["--customer-role", "boss"],
        ["--customer-role", "buyer", "--approval-limit", "-5"],
    ):
        refused = cli_env.invoke(app, ["users", "set-approval", "alice", *bad], terminal_width=200)
        assert refused.exit_code != 0, refused.output
    listing = cli_env.invoke(app, ["users", "list"], terminal_width=200)
    alice = next(line for line in listing.output.splitlines() if "alice" in line)
    assert "buyer" in alice and "2500" in alice
    not_a_customer = cli_env.invoke(
        app, ["users", "set-approval", "nobody", "--customer-role", "viewer"], terminal_width=200
    )
    assert not_a_customer.exit_code == 1 and "not found" in not_a_customer.output
    phoned = cli_env.invoke(app, ["users", "set-phone", "alice", "+4915112345678"])
    assert phoned.exit_code == 0 and "WhatsApp +4915112345678" in phoned.output, phoned.output
    for bad in ("015112345678", "+49 151 1234"):
        refused = cli_env.invoke(app, ["users", "set-phone", "alice", bad], terminal_width=200)
        assert refused.exit_code == 1 and "phone: " in refused.output, refused.output
    unphoned = cli_env.invoke(app, ["users", "set-phone", "alice"])
    assert unphoned.exit_code == 0 and "WhatsApp removed" in unphoned.output
    told = cli_env.invoke(app, ["users", "set-notify-by", "alice", "WhatsApp"])
    assert told.exit_code == 0 and "alice: told by whatsapp" in told.output, told.output
    wrong = cli_env.invoke(app, ["users", "set-notify-by", "alice", "pigeon"], terminal_width=200)
    assert wrong.exit_code != 0 and "pigeon" in wrong.output, wrong.output
    disabled = cli_env.invoke(app, ["users", "disable", "alice"], terminal_width=200)
    assert disabled.exit_code == 0
    listing = cli_env.invoke(app, ["users", "list"], terminal_width=200)
    alice = next(line for line in listing.output.splitlines() if "alice" in line)
    assert "yes" in alice
    missing = cli_env.invoke(app, ["users", "disable", "nobody"], terminal_width=200)
    assert missing.exit_code == 1

    weak = cli_env.invoke(
        app, ["users", "reset-password", "alice", "--password", "short"], terminal_width=200
    )
    assert weak.exit_code == 1 and "at least 12" in weak.output
    reset = cli_env.invoke(
        app, ["users", "reset-password", "alice", "--generate"], terminal_width=200
    )
    assert reset.exit_code == 0 and "every session ended" in reset.output, reset.output
    assert "password: " in reset.output
    nobody = cli_env.invoke(
        app, ["users", "reset-password", "nobody", "--generate"], terminal_width=200
    )
    assert nobody.exit_code == 1 and "not found" in nobody.output
