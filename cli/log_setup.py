"""Logs of the long-running commands (the API, the worker, the ERP simulator): text in
development, JSON lines otherwise (`RESTOCK_LOG_FORMAT`), each with its context
(`core.logs`)."""

from __future__ import annotations

from core import logs, tracing
from core.settings import get_settings


def configure(service: str) -> None:
    """Logs, and traces when RESTOCK_OTLP_ENDPOINT is set."""
    settings = get_settings()
    logs.configure(service, settings.effective_log_format)
    tracing.start(settings, service)
