"""`restock sync CUSTOMER`: sync one customer from the ERP and compute its recommendation."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from core.errors import RestockError
from core.settings import Settings, get_settings
from services.recommend import recommend
from services.schemas import RecommendationVersion, SyncResult
from services.sync import sync_customer
from store.customers import upsert_customer
from store.db import create_engine, create_session_factory, unit_of_work
from store.models import Customer

console = Console()


async def run_sync(
    settings: Settings, erp_code: str, *, plan: bool = True
) -> tuple[SyncResult, RecommendationVersion | None]:
    from erp.client import ErpClient, build_http_client

    engine = create_engine(settings.database_url)
    http = build_http_client(settings)
    try:
        sessions = create_session_factory(engine)
        erp = ErpClient.from_settings(settings, http)
        async with unit_of_work(sessions) as session:
            customer_id = await session.scalar(
                select(Customer.id).where(Customer.erp_code == erp_code)
            )
            if customer_id is None:
                profile = await erp.get_customer(erp_code)
                customer = await upsert_customer(
                    session, erp_code=profile.code, name=profile.name, timezone=profile.timezone
                )
                customer_id = customer.id
        result = await sync_customer(sessions, erp, customer_id, actor="cli")
        version = await recommend(sessions, customer_id, actor="cli") if plan else None
        return result, version
    finally:
        await http.aclose()
        await engine.dispose()


def sync(
    customer: Annotated[str, typer.Argument(help="The customer's ERP code, e.g. K-10040")],
    plan: Annotated[bool, typer.Option(help="Also compute the recommendation")] = True,
) -> None:
    """Sync a customer from the ERP (creating it if new) and compute its recommendation."""
    try:
        result, version = asyncio.run(run_sync(get_settings(), customer, plan=plan))
    except RestockError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(
        f"synced {result.erp_code}: {result.products} products, {result.shipments} shipments, "
        f"{result.orders} orders ({result.orders_created} new), "
        f"{result.data_quality_issues} data-quality issues"
        + ("" if result.changed else " - unchanged since the last sync")
    )
    if version is not None:
        state = "new" if version.created else "unchanged"
        console.print(f"recommendation v{version.version} ({state}): {version.summary}")
