"""`restock erp-sim`: serve the ERP simulator with uvicorn."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cli import log_setup
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
        str | None,
        typer.Option(help="Business date a new world starts from (YYYY-MM-DD); default today"),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            help="SQLite file that keeps the world across restarts "
            "[default: $RESTOCK_VAR_DIR/erp-sim.db]"
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option(help="Keep the world across restarts (--no-keep: forget on exit)")
    ] = True,
    fresh: Annotated[bool, typer.Option(help="Forget the kept world and start a new one")] = False,
) -> None:
    """Run the ERP simulator (ERP API under /api/v1, admin API under /admin, docs at /docs).

    Customers added, orders submitted and the business date are kept in a SQLite file, so a
    restart continues where the simulator stopped (the seed and start date it began with win
    over --seed and --today; --fresh starts over)."""
    import uvicorn

    from erp.simulator.app import create_app
    from erp.simulator.persistence import open_world
    from erp.simulator.world import SimWorld

    log_setup.configure("erp-sim")
    settings = get_settings()
    start = date.fromisoformat(today) if today else date.today()
    world_seed = settings.erp_sim_seed if seed is None else seed
    if keep:
        try:
            world = open_world(
                state or settings.var_dir / "erp-sim.db",
                seed=world_seed,
                today=start,
                fresh=fresh,
            )
        except RuntimeError as err:  # the journal is in use (JournalInUse), or cannot replay
            typer.echo(f"restock erp-sim: {err}", err=True)
            raise typer.Exit(2) from None
    else:
        world = SimWorld.demo(world_seed, start)
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
        log_config=None,  # uvicorn's lines go through ours (log_setup)
    )
