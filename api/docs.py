"""The API's interactive docs, served with their assets from this process (no CDN), under the
same content security policy as every page: no inline script."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from core.settings import Environment, Settings

ASSETS = "/docs-assets"
STATIC = Path(__file__).parent / "static"


def docs_enabled(settings: Settings) -> bool:
    """On in development and tests; in production only when RESTOCK_API_DOCS=true."""
    if settings.api_docs is not None:
        return settings.api_docs
    return settings.env is not Environment.PRODUCTION


def install_docs(app: FastAPI, settings: Settings) -> None:
    if not docs_enabled(settings):
        return
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    app.mount("/api-static", StaticFiles(directory=STATIC), name="api-static")
    page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{escape(app.title)} - docs</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body data-openapi="{escape(app.openapi_url or "/openapi.json")}">
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="/api-static/docs.js"></script>
</body>
</html>
"""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)
