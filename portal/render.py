"""The one Jinja2 environment (autoescaped) and the context every page gets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.auth import tokens
from api.auth.deps import Principal
from core.money import show
from core.settings import Settings
from services.erp_messages import explain_erp_failure
from store.models import Role

HERE = Path(__file__).parent
DASH = "\u2013"  # shown for a missing value
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return DASH
    return f"{value:,.{digits}f}"


def _money(value: Decimal | str | None, currency: str | None) -> str:
    return DASH if value is None else show(Decimal(str(value)), currency)


def _measure(value: float | None) -> str:
    """A physical measure to three significant digits (0.000999 m³, 12.4 kg)."""
    return DASH if value is None else f"{value:.3g}"


def _day(value: date | datetime | None) -> str:
    if value is None:
        return DASH
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _label(value: str | None) -> str:
    return DASH if not value else value.replace("_", " ")


def _replace_param(query: str, name: str, value: str) -> str:
    """`query` (a URL query string) with `name` set to `value`, or removed when empty."""
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != name]
    if value:
        params.append((name, value))
    return urlencode(params)


TEMPLATES.env.filters.update(
    number=_number,
    money=_money,
    measure=_measure,
    day=_day,
    label=_label,
    replace_param=_replace_param,
    erp_failure=explain_erp_failure,
)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page; `principal` and `csrf` in the context drive the nav and the forms."""
    page = {"principal": None, "csrf": None, "customer_id": None, **(context or {})}
    return TEMPLATES.TemplateResponse(request, template, page, status_code=status_code)


def page_context(principal: Principal, settings: Settings, **context: Any) -> dict[str, Any]:
    """What every signed-in page's template needs: who, the CSRF token, whether ops."""
    return {
        "principal": principal,
        "csrf": tokens.csrf_token(settings, principal.jti),
        "is_ops": principal.role is Role.OPS,
        **context,
    }
