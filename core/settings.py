"""One settings class for every process, read from `RESTOCK_*` environment variables."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.messaging import TWILIO_STATUS_PATH

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_ERP_API_KEY = "dev-erp-key"
DEV_ERP_ADMIN_KEY = "dev-erp-admin-key"
DEV_ERP_WEBHOOK_SECRET = "dev-only-erp-webhook-secret-change-me"
DEV_PUBLIC_URL = "http://127.0.0.1:8000"
DEV_TWILIO_AUTH_TOKEN = "dev-only-twilio-auth-token"  # `restock dev`'s WhatsApp simulator


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESTOCK_", env_file=None, extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    var_dir: Path = Field(
        default=VAR_DIR, description="Local state of `restock dev`: Temporal history, logs"
    )

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{VAR_DIR / 'restock.db'}",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…",
    )

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "restock"
    temporal_tls: bool = Field(
        default=False,
        description="Connect to Temporal over TLS (implied by a CA, a client certificate or an "
        "API key); the system's CAs verify the server unless RESTOCK_TEMPORAL_TLS_CA is set",
    )
    temporal_tls_ca: Path | None = Field(
        default=None, description="PEM file of the CA that signed the Temporal frontend's cert"
    )
    temporal_tls_cert: Path | None = Field(
        default=None, description="PEM client certificate (mTLS); with RESTOCK_TEMPORAL_TLS_KEY"
    )
    temporal_tls_key: Path | None = Field(
        default=None, description="PEM private key of RESTOCK_TEMPORAL_TLS_CERT"
    )
    temporal_tls_server_name: str | None = Field(
        default=None, description="Name to verify the server's certificate against, if not the host"
    )
    temporal_api_key: str | None = Field(
        default=None, description="API key (Temporal Cloud); sent over TLS only"
    )
    erp_max_requests_per_second: float | None = Field(
        default=40,
        gt=0,
        description="The most requests the ERP sees in any second from every worker together "
        "(each worker paces its share, erp/pacing.py), and the most ERP calls started per "
        "second (Temporal's task-queue rate limit on the ERP queue); empty: no limit. 40 lets "
        "a thousand customers' reviews reach the ERP within five minutes (bench/fleet.py)",
    )
    erp_max_concurrent_calls: int = Field(
        default=8, ge=1, le=1000, description="ERP calls, and ERP requests, one worker runs at once"
    )
    worker_max_cached_workflows: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="Workflows a worker keeps in memory between their tasks (Temporal's sticky "
        "cache; 0: none, every task replays the history)",
    )
    worker_max_concurrent_workflow_tasks: int = Field(
        default=100, ge=2, le=10_000, description="Workflow tasks one worker runs at once"
    )
    worker_max_concurrent_activities: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Activities other than ERP calls (planning, the store) one worker runs at once",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="PostgreSQL connections a process keeps open, and as many more it may open "
        "while busy (SQLite: not used)",
    )
    log_format: LogFormat | None = Field(
        default=None,
        description="text or json (JSON lines with request id, customer, workflow and run id); "
        "empty: text in development, json otherwise",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="OTLP/HTTP collector (e.g. http://otel-collector:4318) the API and worker "
        "export traces to; empty: no tracing",
    )
    otlp_sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of traces kept when tracing (a trace is kept or dropped whole, as "
        "its first span decided); 1 keeps every one",
    )
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token the API's /metrics asks for; empty: /metrics is open (set it "
        "when the API is reachable from outside the cluster)",
    )
    request_metrics: bool = Field(
        default=True,
        description="The API counts and times every request by route and status; false turns "
        "that off (its /metrics then serves the process's figures only)",
    )
    worker_metrics_address: str | None = Field(
        default=None,
        pattern=r"^[^:]*:\d{1,5}$",
        description="host:port where the worker serves Restock's /metrics; empty: not served",
    )
    temporal_metrics_address: str | None = Field(
        default=None,
        pattern=r"^[^:]*:\d{1,5}$",
        description="host:port where the worker serves the Temporal SDK's own metrics "
        "(workflow and activity task latencies, slots, sticky cache); empty: not served",
    )
    schedule_jitter_minutes: float = Field(
        default=30,
        ge=0,
        le=24 * 60,
        description="Each customer's scheduled review starts up to this many minutes late "
        "(Temporal spreads it per schedule), so customers due at the same hour do not reach "
        "the ERP at once; 0 starts on the hour",
    )
    temporal_ui_url: str = Field(
        default="http://127.0.0.1:8233",
        description="Where links to a workflow point: the UI itself, or the API's ops-only "
        "proxy (<RESTOCK_PUBLIC_URL>/ops/temporal) when RESTOCK_TEMPORAL_UI_UPSTREAM is set",
    )
    temporal_ui_upstream: str | None = Field(
        default=None,
        description="The Temporal UI server the API forwards /ops/temporal/... to, for ops "
        "only (e.g. http://temporal-ui:8080/ops/temporal); none: no proxy",
    )
    temporal_rpc_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long the API waits for a cycle to answer a query or a decision",
    )

    erp_base_url: str = "http://127.0.0.1:8100"
    erp_api_key: str = DEV_ERP_API_KEY
    erp_admin_key: str = DEV_ERP_ADMIN_KEY
    erp_timeout_seconds: float = Field(default=10.0, gt=0)
    erp_mapping_file: Path | None = Field(
        default=None,
        description="YAML field mapping for the ERP; None uses erp/mappings/default.yaml",
    )
    erp_webhook_secret: str = Field(
        default=DEV_ERP_WEBHOOK_SECRET,
        description="Shared secret of the ERP's signed pushes (POST /api/erp/events)",
    )
    erp_webhook_window_seconds: int = Field(
        default=300,
        gt=0,
        description="A push whose timestamp is further than this from now is refused (replay)",
    )

    twilio_auth_token: str | None = Field(
        default=None,
        description="The Twilio account's auth token: inbound WhatsApp messages must carry its "
        "X-Twilio-Signature; none: the WhatsApp webhook answers 503",
    )
    twilio_account_sid: str | None = Field(
        default=None, description="The Twilio account Restock sends WhatsApp messages from"
    )
    twilio_api_base_url: str | None = Field(
        default=None,
        description="Twilio's API base URL; none: Twilio's own (`restock channel-sim`'s for tests "
        "and development)",
    )
    twilio_templates: dict[str, str] = Field(
        default_factory=dict,
        description="JSON: message kind (ready, reminder, expired, submitted, late, delivered) "
        "-> the ContentSid of its approved WhatsApp template (variables 1: subject, 2: text)",
    )
    twilio_whatsapp_from: str = Field(
        default="whatsapp:+14155238886",
        description="The WhatsApp sender (Twilio's sandbox number by default)",
    )
    twilio_webhook_url: str | None = Field(
        default=None,
        description="The webhook's URL exactly as configured at Twilio (the signature covers "
        "it); none: the URL the request arrived at",
    )
    twilio_status_callback_url: str | None = Field(
        default=None,
        description="The URL Twilio posts each sent message's delivery status to (signed like "
        "the webhook); none: RESTOCK_PUBLIC_URL + /api/channels/twilio/status",
    )

    notifier: Literal["log", "smtp"] = "log"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "restock@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    ops_email: str = "ops@localhost"

    jwt_secret: str = DEV_JWT_SECRET
    jwt_expiry_minutes: int = Field(
        default=30, gt=0, le=24 * 60, description="Access token lifetime; at most a day"
    )
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins (scheme://host[:port]) of separate frontends "
        "allowed to call the API from a browser, with Bearer tokens (never cookies); empty: "
        "none, and '*' is refused",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For/-Proto are believed (the login throttle keys on the client address); "
        "empty: none, the connection's own address counts",
    )
    api_docs: bool | None = Field(
        default=None,
        description="Serve /docs and /openapi.json; default: on except in production",
    )
    max_request_bytes: int = Field(
        default=1_048_576, gt=0, description="Largest request body the API reads; 413 beyond"
    )

    public_url: str = Field(
        default=DEV_PUBLIC_URL,
        description="Where people reach the portal: the base of every link in a message",
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    erp_sim_host: str = "127.0.0.1"
    erp_sim_port: int = Field(default=8100, ge=1, le=65535)
    erp_sim_seed: int = 42
    erp_sim_days_per_minute: float = Field(
        default=0.0, ge=0, description="Simulated days that pass per real minute; 0 stops the clock"
    )
    erp_sim_webhook_url: str | None = Field(
        default=None,
        description="Where the ERP simulator pushes order events (signed with "
        "RESTOCK_ERP_WEBHOOK_SECRET); none: it pushes nothing. `restock dev` points it at "
        "the API",
    )
    channel_sim_port: int = Field(
        default=8300, ge=1, le=65535, description="The Twilio simulator's port under `restock dev`"
    )
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)

    @model_validator(mode="after")
    def _client_cert_and_key_together(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError(
                "RESTOCK_TEMPORAL_TLS_CERT and RESTOCK_TEMPORAL_TLS_KEY go together: set both "
                "for a client certificate, or neither"
            )
        return self

    @property
    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.TEXT if self.env is Environment.DEVELOPMENT else LogFormat.JSON

    @property
    def temporal_uses_tls(self) -> bool:
        return bool(
            self.temporal_tls
            or self.temporal_tls_ca
            or self.temporal_tls_cert
            or self.temporal_api_key
        )

    @model_validator(mode="after")
    def _refuse_dev_secrets_outside_development(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            dev_defaults = {
                "RESTOCK_JWT_SECRET": self.jwt_secret == DEV_JWT_SECRET,
                "RESTOCK_ERP_API_KEY": self.erp_api_key == DEV_ERP_API_KEY,
                "RESTOCK_ERP_ADMIN_KEY": self.erp_admin_key == DEV_ERP_ADMIN_KEY,
                "RESTOCK_ERP_WEBHOOK_SECRET": self.erp_webhook_secret == DEV_ERP_WEBHOOK_SECRET,
                "RESTOCK_PUBLIC_URL": self.public_url == DEV_PUBLIC_URL,
                "RESTOCK_TWILIO_AUTH_TOKEN": self.twilio_auth_token == DEV_TWILIO_AUTH_TOKEN,
            }
            offending = [name for name, is_default in dev_defaults.items() if is_default]
            if offending:
                raise ValueError(
                    "development default secrets are refused in production; set "
                    + ", ".join(offending)
                )
            if len(self.jwt_secret) < 32:
                raise ValueError("RESTOCK_JWT_SECRET must be at least 32 characters in production")
            if len(self.erp_webhook_secret) < 32:
                raise ValueError(
                    "RESTOCK_ERP_WEBHOOK_SECRET must be at least 32 characters in production"
                )
        if (
            self.env is Environment.TEST
            and self.jwt_secret == DEV_JWT_SECRET
            and "pytest" not in sys.modules
            and "PYTEST_CURRENT_TEST" not in os.environ  # a process the test suite started
        ):
            # `test` is for the test suite; a deployment labelled test signs with its own key.
            raise ValueError(
                "RESTOCK_ENV=test with the committed development RESTOCK_JWT_SECRET is only for "
                "the test suite; set RESTOCK_JWT_SECRET (or RESTOCK_ENV=development)"
            )
        return self

    @property
    def portal_url(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def whatsapp_configured(self) -> bool:
        """Whether Restock sends WhatsApp messages: a Twilio account and its auth token."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def twilio_status_url(self) -> str:
        return self.twilio_status_callback_url or f"{self.portal_url}{TWILIO_STATUS_PATH}"

    @property
    def schedule_jitter(self) -> timedelta:
        return timedelta(minutes=self.schedule_jitter_minutes)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, value: str) -> str:
        if "*" in value:
            raise ValueError(
                "RESTOCK_CORS_ORIGINS lists origins one by one; '*' would let any site call the API"
            )
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
