"""`restock channel-sim`: serve the Twilio (WhatsApp) simulator with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import log_setup
from core.settings import get_settings

WEBHOOK_PATH = "/api/channels/twilio/whatsapp"


def channel_sim(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port [RESTOCK_CHANNEL_SIM_PORT]")] = None,
    account_sid: Annotated[
        str, typer.Option(help="The account SID Restock sends with [RESTOCK_TWILIO_ACCOUNT_SID]")
    ] = "",
    webhook_url: Annotated[
        str,
        typer.Option(
            help="Restock's WhatsApp webhook [RESTOCK_TWILIO_WEBHOOK_URL, else "
            "RESTOCK_PUBLIC_URL + /api/channels/twilio/whatsapp]"
        ),
    ] = "",
) -> None:
    """Run the Twilio simulator: the Messaging API under /2010-04-01, phones that write to
    Restock under /admin/phones/{phone}/messages, a phone's conversation at /phones/{phone}.
    Its auth token is RESTOCK_TWILIO_AUTH_TOKEN, the one Restock checks signatures with; it
    knows one approved template (channels.simulator.DEV_TEMPLATE)."""
    import uvicorn

    from channels.simulator import DEV_TEMPLATES, SimState, create_app

    log_setup.configure("channel-sim")
    settings = get_settings()
    if not settings.twilio_auth_token:
        typer.echo("restock channel-sim: set RESTOCK_TWILIO_AUTH_TOKEN (Restock's too)", err=True)
        raise typer.Exit(2)
    state = SimState(
        account_sid=account_sid or settings.twilio_account_sid or "AC" + "0" * 32,
        auth_token=settings.twilio_auth_token,
        sender=settings.twilio_whatsapp_from,
        webhook_url=webhook_url
        or settings.twilio_webhook_url
        or settings.public_url.rstrip("/") + WEBHOOK_PATH,
        templates=dict(DEV_TEMPLATES),
    )
    uvicorn.run(
        create_app(state),
        host=host,
        port=settings.channel_sim_port if port is None else port,
        log_level="info",
        log_config=None,
    )
