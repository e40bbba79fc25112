"""The web process: the JSON API with the portal's pages and the messaging channels'
webhooks mounted (`restock api`).

It sits above both: the API does not know the portal, and the portal uses the API's auth
dependencies only, so neither imports the other's routes.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app as create_api
from channels.twilio_webhook import install_channels
from core.settings import Settings
from portal.app import install_portal


def create_app(settings: Settings | None = None, *, owns_process: bool = False) -> FastAPI:
    return create_api(settings, owns_process=owns_process, mount=[install_portal, install_channels])
