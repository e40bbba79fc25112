from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.settings import DEV_JWT_SECRET, DEV_TWILIO_AUTH_TOKEN, Environment, Settings
from tests.plugins.production import PRODUCTION


def test_reads_restock_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTOCK_API_PORT", "9123")
    monkeypatch.setenv("RESTOCK_TEMPORAL_TASK_QUEUE", "other-queue")
    settings = Settings()
    assert settings.api_port == 9123
    assert settings.temporal_task_queue == "other-queue"


def test_defaults_are_the_embedded_stack() -> None:
    settings = Settings()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("var/restock.db")
    assert settings.temporal_task_queue == "restock"
    assert (settings.api_port, settings.erp_sim_port) == (8000, 8100)
    assert (settings.temporal_port, settings.temporal_ui_port) == (7233, 8233)


def test_production_refuses_dev_default_secrets() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(env=Environment.PRODUCTION)
    message = str(info.value)
    assert "RESTOCK_JWT_SECRET" in message
    assert "RESTOCK_ERP_API_KEY" in message


def test_production_refuses_short_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="RESTOCK_JWT_SECRET must be at least 32"):
        Settings(**{**PRODUCTION, "jwt_secret": "short"})


def test_production_refuses_short_webhook_secret() -> None:
    with pytest.raises(ValidationError, match="RESTOCK_ERP_WEBHOOK_SECRET must be at least 32"):
        Settings(**{**PRODUCTION, "erp_webhook_secret": "short"})


def test_production_needs_the_public_url_and_webhook_secret() -> None:
    values = {k: v for k, v in PRODUCTION.items() if k not in ("public_url", "erp_webhook_secret")}
    with pytest.raises(ValidationError) as info:
        Settings(**values)
    assert "RESTOCK_PUBLIC_URL" in str(info.value)
    assert "RESTOCK_ERP_WEBHOOK_SECRET" in str(info.value)


def test_production_refuses_the_development_twilio_token() -> None:
    with pytest.raises(ValidationError, match="RESTOCK_TWILIO_AUTH_TOKEN"):
        Settings(**{**PRODUCTION, "twilio_auth_token": DEV_TWILIO_AUTH_TOKEN})
    assert Settings(**{**PRODUCTION, "twilio_auth_token": "t" * 32}).twilio_auth_token


def test_production_accepts_real_secrets() -> None:
    settings = Settings(**PRODUCTION)
    assert settings.jwt_secret != DEV_JWT_SECRET
    assert settings.portal_url == "https://restock.example.com"


def test_invalid_port_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTOCK_API_PORT", "70000")
    with pytest.raises(ValidationError, match="api_port"):
        Settings()
