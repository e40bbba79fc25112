from __future__ import annotations

import socket
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.dev import run_dev
from cli.main import app
from cli.ports import PortClaim, busy_port_messages, port_in_use
from cli.supervisor import ProcessSpec, State, Supervisor
from core.settings import Settings
from store.migrate import current_head


@pytest.fixture
def occupied_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("dev", "api", "worker", "erp-sim", "db", "seed-demo", "plan", "backtest"):
        assert command in result.output


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "nested" / "restock.db"
    monkeypatch.setenv("RESTOCK_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    version = sqlite3.connect(db).execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == (current_head(),)


def test_busy_port_message_names_port_owner_and_variable(occupied_port: int) -> None:
    assert port_in_use("127.0.0.1", occupied_port)
    free = PortClaim(_free_port(), "ERP simulator", "RESTOCK_ERP_SIM_PORT")
    busy = PortClaim(occupied_port, "API and portal", "RESTOCK_API_PORT")
    messages = busy_port_messages([free, busy])
    assert len(messages) == 1
    assert str(occupied_port) in messages[0]
    assert "API and portal" in messages[0]
    assert "RESTOCK_API_PORT" in messages[0]


def test_dev_refuses_to_start_on_a_busy_port(
    occupied_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        api_port=occupied_port, temporal_port=_free_port(), temporal_ui_port=_free_port()
    )
    assert run_dev(settings) == 2
    output = capsys.readouterr().out
    assert f"port {occupied_port} (API and portal) is already in use" in output
    assert "Traceback" not in output


def test_supervisor_starts_in_dependency_order_and_stops_everything(tmp_path: Path) -> None:
    marker = tmp_path / "first-ready"
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    specs = [
        ProcessSpec("first", sleeper, url="-", ready=lambda _offset: marker.exists()),
        ProcessSpec("second", sleeper, url="-", ready=lambda _offset: True, after=["first"]),
    ]
    supervisor = Supervisor(specs, tmp_path / "logs")
    first, second = supervisor.processes
    supervisor.step()
    assert (first.state, second.state) == (State.STARTING, State.WAITING)
    marker.touch()
    for _ in range(20):
        supervisor.step()
        if supervisor.all_up:
            break
        time.sleep(0.05)
    assert supervisor.all_up
    popens = [p.popen for p in supervisor.processes]
    supervisor.stop_all()
    assert all(p is not None and p.poll() is not None for p in popens)
    assert {p.state for p in supervisor.processes} == {State.STOPPED}


def test_a_process_that_dies_is_restarted_with_back_off_and_its_log_kept(tmp_path: Path) -> None:
    count = tmp_path / "runs"
    crash = [
        sys.executable,
        "-c",
        "import pathlib, sys; p = pathlib.Path(sys.argv[1]); n = len(p.read_text()) "
        "if p.exists() else 0; p.write_text('x' * (n + 1)); print(f'boom {n + 1}'); "
        "sys.exit(3)",
        str(count),
    ]
    supervisor = Supervisor(
        [ProcessSpec("crashy", crash, url="-", ready=lambda _offset: False)], tmp_path
    )
    supervisor.step()
    process = supervisor.processes[0]
    assert process.popen is not None
    process.popen.wait(30)
    now = time.monotonic()
    process.refresh(now)
    assert process.state is State.RESTARTING and process.last_exit == 3
    assert process.describe(now).startswith("exited (3), restarting in 1 s")
    process.refresh(now + 0.5)
    assert process.state is State.RESTARTING  # not before its back-off
    process.refresh(now + 1.01)
    assert process.state is State.STARTING and process.starts == 2
    assert process.popen.wait(30) == 3
    later = time.monotonic()
    process.refresh(later)
    assert process.restart_at is not None and process.restart_at - later == 2.0  # doubled
    supervisor.stop_all()
    log = process.log_path.read_text()
    assert "boom 1" in log and "boom 2" in log  # the crashed run's lines are kept
    assert log.count("=== start") == 2 and "exited with 3; restarting" in log
    assert process.crashes == 2 and supervisor.crashes == 2
