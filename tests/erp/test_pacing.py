"""The ERP sees at most the configured requests per second and requests in flight: the pacer
by itself, then through `ErpClient` against the simulator, measured by the simulator's own
traffic meter."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest

from core.settings import Environment, Settings
from erp.client import ErpClient, build_http_client
from erp.pacing import RequestPacer
from erp.simulator.app import create_app
from erp.simulator.generator import DEMO_SMALL
from erp.simulator.server import ServerThread
from erp.simulator.traffic import TrafficMeter
from erp.simulator.world import SimWorld

API_KEY, ADMIN_KEY = "pacing-key", "pacing-admin-key"


async def test_a_request_starts_only_while_fewer_than_n_others_are_out_or_just_back() -> None:
    """At each start, fewer than N other requests are in flight or answered within the
    window: so however late each one reaches the ERP (between its start and its answer), no
    window there holds more than N."""
    pacer = RequestPacer(rate=40, in_flight=3)
    n, seconds = pacer.window()
    assert (n, seconds) == (40, 1.0)
    spans: list[tuple[float, float]] = []
    running = peak = 0

    async def request(k: int) -> None:
        nonlocal running, peak
        async with pacer.slot():
            start = time.monotonic()
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.002 * (k % 5))
            running -= 1
            spans.append((start, time.monotonic()))

    await asyncio.gather(*(request(k) for k in range(100)))
    assert len(spans) == 100 and peak <= 3
    for start, _ in spans:
        out = sum(1 for s, e in spans if s < start < e + seconds)
        assert out <= n - 1


def test_the_window_of_a_rate() -> None:
    assert RequestPacer(rate=10 / 3, in_flight=1).window() == (3, 1.0)
    assert RequestPacer(rate=0.5, in_flight=1).window() == (1, 2.0)
    with pytest.raises(ValueError, match="rate must be positive"):
        RequestPacer(rate=0, in_flight=1)
    with pytest.raises(ValueError, match="in_flight"):
        RequestPacer(rate=1, in_flight=0)


async def test_a_higher_rate_lets_waiting_requests_go() -> None:
    pacer = RequestPacer(rate=0.01, in_flight=5)
    async with pacer.slot():
        pass
    second = asyncio.ensure_future(_enter(pacer))
    await asyncio.sleep(0.05)
    assert not second.done()  # the one permit is held for 100 s after the answer
    pacer.set_rate(2)
    await asyncio.wait_for(second, 60)  # a guard against hanging, not a time limit


async def _enter(pacer: RequestPacer) -> None:
    async with pacer.slot():
        pass


@dataclass(frozen=True)
class OwnSimulator:
    base_url: str
    meter: TrafficMeter


@pytest.fixture(scope="module")
def own_simulator() -> Iterator[OwnSimulator]:
    """A simulator of this module's own: its traffic meter counts these tests' requests only."""
    app = create_app(SimWorld.demo(42, date(2026, 11, 30)), api_key=API_KEY, admin_key=ADMIN_KEY)
    server = ServerThread(app).start()
    try:
        yield OwnSimulator(server.base_url, app.state.traffic)
    finally:
        server.stop()


async def test_the_erp_sees_no_more_than_the_paced_rate_and_slots(
    own_simulator: OwnSimulator,
) -> None:
    own_simulator.meter.reset()
    http = build_http_client(Settings(env=Environment.TEST))
    client = ErpClient(
        http,
        base_url=own_simulator.base_url,
        api_key=API_KEY,
        pacer=RequestPacer(rate=25, in_flight=3),
    )
    try:
        await asyncio.gather(*(client.get_customer(DEMO_SMALL) for _ in range(60)))
    finally:
        await http.aclose()
    async with httpx.AsyncClient(
        base_url=own_simulator.base_url, headers={"X-Admin-Key": ADMIN_KEY}
    ) as admin:
        report = (await admin.get("/admin/traffic")).json()
        assert report["requests"] == 60 and report["by_status"] == {"200": 60}
        assert report["busiest_second"] <= 25
        assert report["peak_in_flight"] <= 3
        assert sum(report["per_second"]) == 60
        assert (await admin.delete("/admin/traffic")).status_code == 204
        after = (await admin.get("/admin/traffic")).json()
    assert after["requests"] == 0 and after["per_second"] == []  # admin calls are not counted


async def test_the_meter_counts_answers_the_fault_injection_gave(
    own_simulator: OwnSimulator,
) -> None:
    own_simulator.meter.reset()
    async with httpx.AsyncClient(
        base_url=own_simulator.base_url, headers={"X-Admin-Key": ADMIN_KEY}
    ) as admin:
        await admin.put("/admin/faults", json={"rate_limit_rate": 1.0, "retry_after_seconds": 2})
        try:
            answer = await admin.get(
                f"/api/v1/customers/{DEMO_SMALL}", headers={"X-Api-Key": API_KEY}
            )
        finally:
            await admin.delete("/admin/faults")
        assert answer.status_code == 429 and answer.headers["retry-after"] == "2"
        report = (await admin.get("/admin/traffic")).json()
    assert report["by_status"] == {"429": 1} and report["peak_in_flight"] == 1


async def test_a_client_from_settings_is_paced_by_them() -> None:
    settings = Settings(
        env=Environment.TEST, erp_max_requests_per_second=7, erp_max_concurrent_calls=2
    )
    async with httpx.AsyncClient() as http:
        paced = ErpClient.from_settings(settings, http).pacer
        unpaced = ErpClient.from_settings(
            settings.model_copy(update={"erp_max_requests_per_second": None}), http
        ).pacer
    assert paced is not None and (paced.rate, paced.in_flight) == (7, 2)
    assert unpaced is not None and unpaced.rate is None
