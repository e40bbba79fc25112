"""`restock schedules sync`: make every customer's cycle schedule in Temporal match its
settings (create, update, pause)."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from core.settings import Settings, get_settings
from core.temporal import connect
from services.schedules import ScheduleSync, sync_all
from store.db import create_engine, create_session_factory

schedules_app = typer.Typer(help="Temporal Schedules that start cycles.", no_args_is_help=True)
console = Console()


async def run_schedule_sync(settings: Settings) -> list[ScheduleSync]:
    client = await connect(settings)
    engine = create_engine(settings.database_url)
    try:
        return await sync_all(
            client,
            create_session_factory(engine),
            task_queue=settings.temporal_task_queue,
            jitter=settings.schedule_jitter,
        )
    finally:
        await engine.dispose()


@schedules_app.command("sync")
def sync() -> None:
    """Create or update every customer's cycle schedule from its settings."""
    results = asyncio.run(run_schedule_sync(get_settings()))
    table = Table(title="Cycle schedules")
    for column in ("customer", "schedule", "outcome", "state"):
        table.add_column(column)
    for r in results:
        state = "paused" if r.paused else "active"
        table.add_row(str(r.customer_id), r.schedule_id, r.outcome.value, state)
    console.print(table)
