"""`restock dev` for real: five processes up, /readyz names the ERP while it is down, a
child killed with SIGKILL is started again (its crashed run's log kept), Ctrl-C (or SIGTERM)
stops everything. Own ports and state folder: a developer's stack is safe."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.settings import get_settings
from tests.plugins.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _poll(check, attempts: int = 240, delay: float = 0.5):  # type: ignore[no-untyped-def]
    last = None
    for _ in range(attempts):
        last = check()
        if last:
            return last
        time.sleep(delay)
    raise AssertionError(f"condition never held; last: {last}")


def test_dev_runs_every_process_and_stops_them_all(tmp_path: Path) -> None:
    api, erp, temporal, ui, channel = (free_port() for _ in range(5))
    env = {
        **os.environ,
        "RESTOCK_VAR_DIR": str(tmp_path / "var"),
        "RESTOCK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'restock.db'}",
        "COLUMNS": "200",
    }
    command = [
        sys.executable, "-m", "cli.main", "dev", "--no-seed",
        "--api-port", str(api), "--erp-port", str(erp),
        "--temporal-port", str(temporal), "--ui-port", str(ui), "--channel-port", str(channel),
    ]  # fmt: skip
    output = (tmp_path / "dev.out").open("wb")
    dev = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    processes_file = tmp_path / "var" / "dev-processes.json"
    try:

        def ready() -> dict[str, object] | None:
            try:
                response = httpx.get(f"http://127.0.0.1:{api}/readyz", timeout=5)
            except httpx.HTTPError:
                return None
            return response.json() if response.status_code == 200 else None

        body = _poll(ready)
        assert body["status"] == "ready"
        assert httpx.get(f"http://127.0.0.1:{ui}/", timeout=5).status_code == 200

        def all_up() -> dict[str, dict[str, object]] | None:
            table: dict[str, dict[str, object]] = json.loads(processes_file.read_text())
            return table if {p["state"] for p in table.values()} == {"up"} else None

        table = _poll(all_up)
        assert set(table) == {"temporal", "erp-sim", "channel-sim", "worker", "api"}

        # Each child, killed, comes back (the ERP simulator first: /readyz says so meanwhile).
        restarted: dict[str, float] = {}
        for name in ("erp-sim", "worker", "api", "temporal"):
            old_pid = int(table[name]["pid"])  # type: ignore[call-overload]
            killed_at = time.monotonic()
            os.kill(old_pid, signal.SIGKILL)
            if name == "erp-sim":

                def erp_down() -> dict[str, object] | None:
                    try:
                        response = httpx.get(f"http://127.0.0.1:{api}/readyz", timeout=10)
                    except httpx.HTTPError:
                        return None
                    return response.json() if response.status_code == 503 else None

                assert _poll(erp_down)["down"] == ["erp"]

            def back_up(process: str = name, pid: int = old_pid) -> dict[str, object] | None:
                row: dict[str, object] = json.loads(processes_file.read_text())[process]
                return row if row["state"] == "up" and row["pid"] != pid else None

            row = _poll(back_up)
            restarted[name] = round(time.monotonic() - killed_at, 1)
            assert row["crashes"] == 1 and row["starts"] == 2
            log = (tmp_path / "var" / "logs" / f"{name}.log").read_text(errors="replace")
            assert log.count("=== start") == 2 and "exited with -9; restarting" in log
        _poll(ready)
        print("restarted after SIGKILL (s):", restarted)
    finally:
        dev.send_signal(signal.SIGTERM)  # as `kill` or a stopped `make run` would
        dev.wait(60)
        output.close()
    log = (tmp_path / "dev.out").read_text(errors="replace")
    assert dev.returncode == 1, log  # children died (and came back): not a clean run
    assert "Traceback" not in log
    for name, process in json.loads(processes_file.read_text()).items():
        assert not _pid_alive(process["pid"]), f"{name} still running after Ctrl-C"


def _dev(tmp_path: Path, ports: dict[str, int], *, seed: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RESTOCK_VAR_DIR": str(tmp_path / "var"),
        "RESTOCK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'restock.db'}",
        "COLUMNS": "200",
    }
    command = [
        sys.executable, "-m", "cli.main", "dev", "--seed" if seed else "--no-seed",
        "--api-port", str(ports["api"]), "--erp-port", str(ports["erp"]),
        "--temporal-port", str(ports["temporal"]), "--ui-port", str(ports["ui"]),
        "--channel-port", str(ports["channel"]),
    ]  # fmt: skip
    output = (tmp_path / "dev.out").open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def _stop(dev: subprocess.Popen[bytes]) -> None:
    dev.send_signal(signal.SIGTERM)
    dev.wait(60)


def _ready(api: int) -> None:
    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{api}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    _poll(ready)


async def _approve_waiting_cycles(temporal_port: int) -> list[str]:
    """Approve every demo cycle with containers; the shipments of the orders placed."""
    from core.settings import get_settings
    from core.temporal import connect
    from services.cycle_control import cycle_status, send_update
    from workflows.contract import names
    from workflows.contract.cycle import ApproveRequest, CycleStatus

    settings = get_settings().model_copy(update={"temporal_address": f"127.0.0.1:{temporal_port}"})
    client = await connect(settings)
    settled = {CycleStatus.AWAITING_APPROVAL, CycleStatus.NOTHING_TO_ORDER}
    shipments: list[str] = []
    for customer_id in (1, 2, 3):  # the three demo customers
        for _ in range(600):
            try:
                state = await cycle_status(client, customer_id)
            except Exception:  # not started yet
                state = None
            if state is not None and state.status in settled:
                break
            await asyncio.sleep(0.2)
        assert state is not None and state.status in settled, state
        if state.status is CycleStatus.NOTHING_TO_ORDER or state.recommendation is None:
            continue
        result = await send_update(
            client,
            customer_id,
            names.APPROVE,
            ApproveRequest(version=state.recommendation.version, actor="buyer"),
        )
        for _ in range(600):
            state = await cycle_status(client, customer_id)
            if state.status is CycleStatus.SUBMITTED:
                break
            await asyncio.sleep(0.2)
        assert state.status is CycleStatus.SUBMITTED, state
        assert len(state.orders) == len(result.orders)
        shipments += [o.shipment_workflow_id or "" for o in state.orders]
    for workflow_id in shipments:  # each order is followed before the stack stops
        for _ in range(300):
            try:
                await client.get_workflow_handle(workflow_id).describe()
                break
            except Exception:
                await asyncio.sleep(0.2)
    return shipments


async def _delivered(temporal_port: int, shipments: list[str]) -> dict[str, str]:
    from core.settings import get_settings
    from core.temporal import connect
    from workflows.contract.shipment import ShipmentState

    settings = get_settings().model_copy(update={"temporal_address": f"127.0.0.1:{temporal_port}"})
    client = await connect(settings)
    outcome = {}
    for workflow_id in shipments:
        handle = client.get_workflow_handle(workflow_id, result_type=ShipmentState)
        state = await asyncio.wait_for(handle.result(), timeout=180)
        outcome[workflow_id] = state.status.value
    return outcome


def test_stop_and_start_the_whole_stack_while_orders_are_at_sea(tmp_path: Path) -> None:
    """Orders placed, the whole stack stopped and started again (Temporal, ERP simulator,
    worker, API): the ERP still knows the orders, and each is followed to delivery."""
    ports = {name: free_port() for name in ("api", "erp", "temporal", "ui", "channel")}
    dev = _dev(tmp_path, ports, seed=True)
    try:
        _ready(ports["api"])
        shipments = asyncio.run(_approve_waiting_cycles(ports["temporal"]))
        assert shipments, "no demo customer had containers to order"
    finally:
        _stop(dev)

    dev = _dev(tmp_path, ports, seed=True)  # a second `make run`
    try:
        _ready(ports["api"])
        admin = {"X-Admin-Key": get_settings().erp_admin_key}
        moved = httpx.post(
            f"http://127.0.0.1:{ports['erp']}/admin/clock/advance",
            headers=admin,
            json={"days": 120},  # past every lead time and lateness: all arrive
            timeout=60,
        )
        assert moved.status_code == 200, moved.text
        outcome = asyncio.run(_delivered(ports["temporal"], shipments))
    finally:
        _stop(dev)
    assert set(outcome.values()) == {"delivered"}, outcome
    log = (tmp_path / "var" / "logs" / "erp-sim.log").read_text(errors="replace")
    assert "changes replayed" in log
    print(f"{len(shipments)} orders at sea across a restart: {outcome}")
