"""Settings that production accepts (no development default), for tests of its behaviour."""

from __future__ import annotations

from typing import Any

from core.settings import Environment

PRODUCTION: dict[str, Any] = {
    "env": Environment.PRODUCTION,
    "jwt_secret": "x" * 40,
    "erp_api_key": "k1",
    "erp_admin_key": "k2",
    "erp_webhook_secret": "w" * 40,
    "public_url": "https://restock.example.com",
}
