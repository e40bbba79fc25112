"""Login CSRF: a login posted from another site is refused, so a cross-site form cannot log a
victim into the attacker's account. Browsers send `Origin` (else `Referer`) on every POST;
clients without either (curl, scripts) are not browsers and are let through."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from core.errors import Forbidden
from core.settings import Settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def refuse_cross_site_login(request: Request, settings: Settings, *, api: bool) -> None:
    """`api`: the JSON login, which the allowed separate frontends (RESTOCK_CORS_ORIGINS)
    may call too."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent:
        return
    allowed = {_origin(str(request.base_url)), _origin(settings.public_url)}
    if api:
        allowed |= {o.lower() for o in settings.cors_origin_list}
    if sent == "null" or _origin(sent) not in allowed:
        raise Forbidden(
            "a login from another site is refused (its Origin is not this site's)",
            code="cross_site_login",
        )
