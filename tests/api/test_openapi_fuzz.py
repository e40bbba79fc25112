"""Schemathesis against the app's own OpenAPI, over loopback HTTP, with every check: no 5xx,
every status and response documented, schema-valid requests accepted and invalid ones refused,
auth not ignorable, `Allow` on 405 complete.

One app per database for the session; each operation's test seeds a synced customer and an ops
user first (the `sessions` fixture empties the tables afterwards). Bounded to a few examples per
operation so the whole run stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import response_schema_conformance
from schemathesis.config import SchemathesisConfig
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.auth import tokens
from core.settings import Environment, Settings
from erp.client import ErpClient
from erp.simulator.generator import DEMO_SMALL
from erp.simulator.server import ServerThread
from store.models import Role
from tests.api.conftest import add_user, onboard
from tests.plugins.erp_sim import ErpSim
from webapp import create_app


@pytest.fixture(scope="session")
def fuzz_settings(
    database_url: str, temporal_env: WorkflowEnvironment, erp_sim: ErpSim
) -> Settings:
    """Every dependency up, so /readyz answers 200 and any 5xx is a real fault. No worker
    runs the cycles the fuzzer starts, so queries and decisions answer 503 after a second.
    The WhatsApp webhook is on: the fuzzer cannot sign, so each of its messages is 403."""
    return erp_sim.settings(
        database_url=database_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        temporal_rpc_timeout_seconds=1.0,
        twilio_auth_token="fuzz-twilio-auth-token",
    )


@pytest.fixture(scope="session")
def fuzz_url(fuzz_settings: Settings) -> Iterator[str]:
    """The app under uvicorn on loopback: checks that send further requests (without auth,
    with other methods) reach it over real HTTP."""
    server = ServerThread(create_app(fuzz_settings)).start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
async def ops_token(
    sessions: async_sessionmaker[AsyncSession], erp_client: ErpClient, fuzz_settings: Settings
) -> str:
    await onboard(sessions, erp_client, DEMO_SMALL)
    user = await add_user(sessions, "fuzz-ops", Role.OPS)
    return tokens.issue(fuzz_settings, user).token


NEEDS_A_WORKER = frozenset(
    {
        "/api/customers/{customer_id}/cycles",
        "/api/customers/{customer_id}/cycles/current",
        "/api/customers/{customer_id}/cycles/current/refresh",
        "/api/customers/{customer_id}/orders",
        "/api/customers/{customer_id}/proposals",
        "/api/customers/{customer_id}/recommendations/{version}/reject",
        "/api/cycles/{cycle_id}/retry",
        "/api/cycles/{cycle_id}/cancel",
    }
)

# Settings have rules across fields (a reminder comes before the expiry, a grace period
# before the expiry) that JSON Schema cannot state, and pasted lines have a format it cannot
# state (`CODE quantity` per line): a schema-valid body may be refused with 422 naming the
# field or the line. Said here once, for those operations only.
REFUSABLE = ["2xx", "401", "403", "404", "409", "422", "429"]
CROSS_FIELD_RULES = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-path": path,
                "include-method": method,
                "checks": {"positive_data_acceptance": {"expected-statuses": REFUSABLE}},
            }
            for path, method in [
                ("/api/customers/{customer_id}/settings", "PUT"),
                ("/api/customers/{customer_id}/recommendations/{version}/draft/paste", "POST"),
            ]
        ]
    }
)
# The operations come from the spec alone; each call goes to the per-database server.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(env=Environment.TEST)).openapi(), config=CROSS_FIELD_RULES
)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors_and_documented_responses(
    case: Any, ops_token: str, fuzz_url: str
) -> None:
    auth = {"Authorization": f"Bearer {ops_token}"}
    response = case.call(base_url=fuzz_url, headers=auth)
    if response.status_code == 503 and case.path in NEEDS_A_WORKER:
        # No worker runs the cycles the fuzzer starts: their queries and decisions time out,
        # and the documented answer is 503 naming Temporal (never a 500).
        assert response.json()["error"] == "dependency_unavailable", response.text
        assert response.json()["detail"].startswith("temporal is unavailable"), response.text
        case.validate_response(response, checks=[response_schema_conformance])
        return
    # Every check, including those that send more requests (through the same app).
    case.validate_response(response, headers=auth, transport_kwargs={"base_url": fuzz_url})
