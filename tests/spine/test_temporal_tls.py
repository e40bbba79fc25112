"""Connecting to a secured Temporal: TLS with a private CA and a client certificate (mTLS).

The bundled dev server (`temporal server start-dev`) has no TLS options, so a TLS endpoint
in front of it stands in for a secured cluster's frontend: a real TLS handshake (ALPN h2,
client certificate required) on loopback, the bytes passed on to the dev server. The
certificates are made for the test by `trustme`. Temporal Cloud's API key rides on the same
TLS path (`RESTOCK_TEMPORAL_API_KEY`); the dev server does not check keys, so that part is
covered by the settings test only.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import trustme
from pydantic import ValidationError
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from core.errors import ConfigurationError
from core.settings import Environment, Settings
from core.temporal import connect, tls_config


@workflow.defn(sandboxed=False)
class Greet:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello {name} over TLS"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65_536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


class Certificates:
    def __init__(self, folder: Path) -> None:
        self.ca = trustme.CA()
        self.server = self.ca.issue_cert("localhost", "127.0.0.1")
        client = self.ca.issue_cert("restock-worker")
        self.ca_file = folder / "ca.pem"
        self.cert_file = folder / "client.pem"
        self.key_file = folder / "client.key"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        client.cert_chain_pems[0].write_to_path(str(self.cert_file))
        client.private_key_pem.write_to_path(str(self.key_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(context)
        self.ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no entry
        context.set_alpn_protocols(["h2"])
        return context


@pytest.fixture
async def secured(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[str, Certificates]]:
    """A TLS frontend (mTLS) for the session's dev server; yields its address."""
    certs = Certificates(tmp_path)
    host, port = temporal_env.client.service_client.config.target_host.rsplit(":", 1)

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(
        forward, "127.0.0.1", 0, ssl=certs.server_context(), ssl_handshake_timeout=5
    )
    address = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield address, certs
    finally:
        server.close()


def settings_for(address: str, **tls: object) -> Settings:
    return Settings(env=Environment.TEST, temporal_address=address, **tls)  # type: ignore[arg-type]


async def test_a_worker_runs_a_workflow_over_mutual_tls(
    secured: tuple[str, Certificates],
) -> None:
    address, certs = secured
    settings = settings_for(
        address,
        temporal_tls_ca=certs.ca_file,
        temporal_tls_cert=certs.cert_file,
        temporal_tls_key=certs.key_file,
        temporal_tls_server_name="localhost",
    )
    client = await connect(settings)
    queue = f"tls-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=queue, workflows=[Greet], workflow_runner=UnsandboxedWorkflowRunner()
    ):
        result = await client.execute_workflow(
            Greet.run,
            "restock",
            id=f"tls-{uuid.uuid4()}",
            task_queue=queue,
            execution_timeout=timedelta(seconds=30),
        )
    assert result == "hello restock over TLS"


async def test_without_the_client_certificate_or_without_tls_the_frontend_refuses(
    secured: tuple[str, Certificates],
) -> None:
    address, certs = secured
    no_client_cert = settings_for(
        address, temporal_tls_ca=certs.ca_file, temporal_tls_server_name="localhost"
    )
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(connect(no_client_cert), 20)
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(connect(settings_for(address)), 20)


def test_tls_settings_are_checked_and_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError, match="RESTOCK_TEMPORAL_TLS_CERT and RESTOCK_TEMPORAL_TLS_KEY"
    ):
        settings_for("x:1", temporal_tls_cert=tmp_path / "client.pem")
    missing = settings_for("x:1", temporal_tls_ca=tmp_path / "nope.pem")
    with pytest.raises(ConfigurationError, match="RESTOCK_TEMPORAL_TLS_CA: cannot read"):
        tls_config(missing)
    assert tls_config(settings_for("x:1")) is False
    assert tls_config(settings_for("x:1", temporal_api_key="cloud-key")) is True
