"""`restock erp-sim`: serve the ERP simulator with uvicorn."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from core.settings import get_settings


def erp_sim(
    host: Annotated[str | None, typer.Option(help="Bind address [RESTOCK_ERP_SIM_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [RESTOCK_ERP_SIM_PORT]")] = None,
    seed: Annotated[int | None, typer.Option(help="Data seed [RESTOCK_ERP_SIM_SEED]")] = None,
    speed: Annotated[
        float | None,
        typer.Option(
            help="Simulated days per real minute, 0 stops the clock "
            "[RESTOCK_ERP_SIM_DAYS_PER_MINUTE]"
        ),
    ] = None,
    today: Annotated[
        str | None, typer.Option(help="Business date to start from (YYYY-MM-DD); default today")
    ] = None,
) -> None:
    """Run the ERP simulator (ERP API under /api/v1, admin API under /admin, docs at /docs)."""
    import uvicorn

    from erp.simulator.app import create_app
    from erp.simulator.world import SimWorld

    settings = get_settings()
    start = date.fromisoformat(today) if today else date.today()
    world = SimWorld.demo(settings.erp_sim_seed if seed is None else seed, start)
    app = create_app(
        world,
        api_key=settings.erp_api_key,
        admin_key=settings.erp_admin_key,
        days_per_minute=settings.erp_sim_days_per_minute if speed is None else speed,
        webhook_url=settings.erp_sim_webhook_url,
        webhook_secret=settings.erp_webhook_secret,
    )
    uvicorn.run(
        app,
        host=host or settings.erp_sim_host,
        port=settings.erp_sim_port if port is None else port,
        log_level="info",
    )
