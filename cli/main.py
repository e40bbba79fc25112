"""The `restock` command: one entry point for every process and admin task."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cli import channel_sim, erp_sim, log_setup, planning
from cli.schedules import schedules_app
from cli.serving import proxy_options
from cli.sync import sync
from cli.users import users_app
from core.errors import ConfigurationError, InvalidInput
from core.settings import get_settings

app = typer.Typer(help="Restock: container reorder automation.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command("erp-sim")(erp_sim.erp_sim)
app.command("channel-sim")(channel_sim.channel_sim)
app.command("plan")(planning.plan)
app.command("backtest")(planning.backtest)
app.command("sync")(sync)
app.add_typer(users_app, name="users")
app.add_typer(schedules_app, name="schedules")

console = Console()


@app.callback()
def _settings_first() -> None:
    """Bad settings stop every command with one line saying which and why, not a traceback."""
    try:
        get_settings()
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in err.errors()
        )
        typer.echo(f"restock: invalid configuration: {problems}", err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply migrations to RESTOCK_DATABASE_URL (SQLite or PostgreSQL)."""
    from store.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    console.print(f"database at revision {revision}: {_redacted(settings.database_url)}")


@db_app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write")],
) -> None:
    """Back up RESTOCK_DATABASE_URL to PATH while the stack runs: SQLite's online backup,
    or `pg_dump --format=custom` for PostgreSQL."""
    from store.backup import backup

    settings = get_settings()
    try:
        made = backup(settings.database_url, path)
    except (InvalidInput, ConfigurationError) as err:
        typer.echo(f"restock db backup: {err}", err=True)
        raise typer.Exit(2) from None
    console.print(
        f"backed up {_redacted(settings.database_url)} to {made.path} "
        f"({made.kind}, {made.bytes:,} bytes)"
    )


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="A backup made by `restock db backup`")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace a database that already holds data")
    ] = False,
) -> None:
    """Replace RESTOCK_DATABASE_URL's contents with a backup (stop the API and worker first;
    docs/operations.md has the drill). PostgreSQL restores in one transaction."""
    from store.backup import has_data, restore
    from store.migrate import current_head

    settings = get_settings()
    target = _redacted(settings.database_url)
    try:
        if has_data(settings.database_url) and not yes:
            typer.echo(
                f"restock db restore: {target} already holds data, which the restore would "
                "replace; add --yes to go ahead",
                err=True,
            )
            raise typer.Exit(2)
        kind = restore(settings.database_url, path)
    except (InvalidInput, ConfigurationError) as err:
        typer.echo(f"restock db restore: {err}", err=True)
        raise typer.Exit(2) from None
    console.print(
        f"restored {path} ({kind}) into {target}; run `restock db upgrade` if the backup is "
        f"older than this release (schema head {current_head()})"
    )


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command("api")
def api() -> None:
    """Serve the API and portal with uvicorn."""
    import uvicorn

    from webapp import create_app

    log_setup.configure("api")
    settings = get_settings()
    uvicorn.run(
        create_app(settings, owns_process=True),
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
        log_config=None,  # uvicorn's lines go through ours (log_setup)
        **proxy_options(settings),
    )


@app.command("worker")
def worker() -> None:
    """Run the Temporal worker (same as `python worker.py`)."""
    import worker as worker_module

    log_setup.configure("worker")
    asyncio.run(worker_module.main())


@app.command("seed-demo")
def seed_demo(
    sync: Annotated[
        bool, typer.Option(help="Also sync each demo customer and compute its recommendation")
    ] = False,
) -> None:
    """Create the demo customers from the ERP simulator's data, and their users; print logins."""
    from cli.seed import seed_demo as run_seed
    from cli.seed import seed_demo_users
    from cli.sync import run_sync

    settings = get_settings()
    seeded = asyncio.run(run_seed(settings))
    table = Table(title="Demo customers")
    for column in ("id", "ERP code", "name"):
        table.add_column(column)
    for customer in seeded:
        table.add_row(str(customer.id), customer.erp_code, customer.name)
    console.print(table)
    users = asyncio.run(seed_demo_users(settings, seeded))
    logins = Table(title="Logins")
    for column in ("username", "role", "customer", "password"):
        logins.add_column(column)
    for user in users:
        logins.add_row(user.username, user.role, user.customer, user.password or "(unchanged)")
    console.print(logins)
    if sync:
        for customer in seeded:
            result, version = asyncio.run(run_sync(settings, customer.erp_code))
            console.print(
                f"{result.erp_code}: synced; recommendation v{version.version if version else '-'}"
            )


@app.command("dev")
def dev(
    api_port: Annotated[int | None, typer.Option(help="API and portal port")] = None,
    erp_port: Annotated[int | None, typer.Option(help="ERP simulator port")] = None,
    temporal_port: Annotated[int | None, typer.Option(help="Temporal gRPC port")] = None,
    ui_port: Annotated[int | None, typer.Option(help="Temporal UI port")] = None,
    channel_port: Annotated[int | None, typer.Option(help="WhatsApp simulator port")] = None,
    seed: Annotated[
        bool, typer.Option(help="On first start, seed demo customers and start their cycles")
    ] = True,
) -> None:
    """Run the whole stack: Temporal dev server, ERP and WhatsApp simulators, worker, API and
    portal."""
    from cli.dev import run_dev
    from cli.devstack import prepare, when_ready

    overrides = {
        "api_port": api_port,
        "erp_sim_port": erp_port,
        "temporal_port": temporal_port,
        "temporal_ui_port": ui_port,
        "channel_sim_port": channel_port,
    }
    settings = get_settings().model_copy(
        update={k: v for k, v in overrides.items() if v is not None}
    )
    prepare(settings)
    raise typer.Exit(run_dev(settings, on_ready=lambda: when_ready(settings, seed=seed)))


if __name__ == "__main__":
    app()
