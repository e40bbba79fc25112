"""How uvicorn serves the API: which proxies' forwarding headers it believes."""

from __future__ import annotations

from typing import Any

from core.settings import Settings


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so anything on the host
    could pick the client address the login throttle counts. Only RESTOCK_TRUSTED_PROXIES
    are believed; none by default."""
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}
