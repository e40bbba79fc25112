"""`restock dev`: the whole product on embedded defaults, with a live status table."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from channels.simulator import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_TEMPLATE
from cli.ports import PortClaim, busy_port_messages, wait_for_port
from cli.supervisor import ManagedProcess, ProcessSpec, State, Supervisor
from core.settings import DEV_PUBLIC_URL, Settings
from core.temporal import search_attribute_flags, temporal_cli_path

STATE_STYLE = {
    State.WAITING: "dim",
    State.STARTING: "yellow",
    State.UP: "green",
    State.RESTARTING: "bold red",
    State.STOPPED: "dim",
}


def _http_ok(url: str) -> Callable[[int], bool]:
    def probe(_log_offset: int) -> bool:
        try:
            return httpx.get(url, timeout=0.5).status_code < 500
        except httpx.HTTPError:
            return False

    return probe


def _log_says(path: Path, marker: str) -> Callable[[int], bool]:
    """The marker in this start's part of the log (earlier starts' lines are above it)."""

    def probe(log_offset: int) -> bool:
        try:
            with path.open("rb") as log:
                log.seek(log_offset)
                return marker.encode() in log.read()
        except OSError:
            return False

    return probe


def child_env(settings: Settings) -> dict[str, str]:
    """Point every child at the processes this command starts, whatever ports were chosen."""
    return {
        "RESTOCK_ERP_BASE_URL": f"http://{settings.erp_sim_host}:{settings.erp_sim_port}",
        "RESTOCK_TEMPORAL_ADDRESS": f"127.0.0.1:{settings.temporal_port}",
        "RESTOCK_TEMPORAL_UI_URL": f"http://127.0.0.1:{settings.temporal_ui_port}",
        "RESTOCK_DATABASE_URL": settings.database_url,
        "RESTOCK_API_HOST": settings.api_host,
        "RESTOCK_API_PORT": str(settings.api_port),
        "RESTOCK_ERP_SIM_HOST": settings.erp_sim_host,
        "RESTOCK_ERP_SIM_PORT": str(settings.erp_sim_port),
        # The simulator pushes its order events to the API (signed with the shared secret).
        "RESTOCK_ERP_SIM_WEBHOOK_URL": settings.erp_sim_webhook_url
        or f"http://{settings.api_host}:{settings.api_port}/api/erp/events",
        "RESTOCK_PUBLIC_URL": settings.public_url
        if settings.public_url != DEV_PUBLIC_URL
        else f"http://{settings.api_host}:{settings.api_port}",
        "RESTOCK_VAR_DIR": str(settings.var_dir),
        "PYTHONUNBUFFERED": "1",
        **whatsapp_env(settings),
    }


def whatsapp_env(settings: Settings) -> dict[str, str]:
    """WhatsApp through the Twilio simulator this command starts, unless a Twilio account
    is configured: the worker sends there (as the simulator's one approved template when
    the buyer has not written within 24 hours), and the simulator's phones write to the API."""
    if settings.twilio_account_sid and not settings.twilio_api_base_url:
        return {}
    kinds = ("ready", "reminder", "expired", "submitted", "late", "delivered")
    return {
        "RESTOCK_TWILIO_ACCOUNT_SID": settings.twilio_account_sid or DEV_ACCOUNT_SID,
        "RESTOCK_TWILIO_AUTH_TOKEN": settings.twilio_auth_token or DEV_AUTH_TOKEN,
        "RESTOCK_TWILIO_API_BASE_URL": f"http://127.0.0.1:{settings.channel_sim_port}",
        "RESTOCK_TWILIO_TEMPLATES": json.dumps(dict.fromkeys(kinds, DEV_TEMPLATE)),
    }


def build_specs(settings: Settings, log_dir: Path) -> list[ProcessSpec]:
    python = sys.executable
    env = child_env(settings)
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    erp_url = env["RESTOCK_ERP_BASE_URL"]
    channel_url = f"http://127.0.0.1:{settings.channel_sim_port}"
    return [
        ProcessSpec(
            name="temporal",
            argv=[
                str(temporal_cli_path()),
                "server",
                "start-dev",
                "--db-filename",
                str(settings.var_dir / "temporal.db"),
                "--ip",
                "127.0.0.1",
                "--port",
                str(settings.temporal_port),
                "--ui-port",
                str(settings.temporal_ui_port),
                *search_attribute_flags(),
                "--log-level",
                "error",
            ],
            url=f"{env['RESTOCK_TEMPORAL_UI_URL']} (UI), 127.0.0.1:{settings.temporal_port} (gRPC)",
            ready=lambda _offset: (
                wait_for_port("127.0.0.1", settings.temporal_port)
                and wait_for_port("127.0.0.1", settings.temporal_ui_port)
            ),
            env=env,
        ),
        ProcessSpec(
            name="erp-sim",
            argv=[python, "-m", "cli.main", "erp-sim"],
            url=f"{erp_url}/docs",
            ready=_http_ok(f"{erp_url}/openapi.json"),
            env=env,
        ),
        ProcessSpec(
            name="channel-sim",
            argv=[
                python,
                "-m",
                "cli.main",
                "channel-sim",
                "--host",
                "127.0.0.1",
                "--port",
                str(settings.channel_sim_port),
                "--webhook-url",
                f"{api_url}/api/channels/twilio/whatsapp",
            ],
            url=f"{channel_url}/phones/{{phone}} (WhatsApp simulator)",
            ready=_http_ok(f"{channel_url}/admin/messages"),
            env=env,
        ),
        ProcessSpec(
            name="worker",
            argv=[python, "-m", "cli.main", "worker"],
            url=f"task queue {settings.temporal_task_queue!r}",
            ready=_log_says(log_dir / "worker.log", "worker polling"),
            after=["temporal"],
            env=env,
        ),
        ProcessSpec(
            name="api",
            argv=[python, "-m", "cli.main", "api"],
            url=f"{api_url}  (docs: {api_url}/docs)",
            ready=_http_ok(f"{api_url}/healthz"),
            env=env,
        ),
    ]


def port_claims(settings: Settings) -> list[PortClaim]:
    return [
        PortClaim(settings.temporal_port, "Temporal", "RESTOCK_TEMPORAL_PORT"),
        PortClaim(settings.temporal_ui_port, "Temporal UI", "RESTOCK_TEMPORAL_UI_PORT"),
        PortClaim(
            settings.erp_sim_port, "ERP simulator", "RESTOCK_ERP_SIM_PORT", settings.erp_sim_host
        ),
        PortClaim(settings.api_port, "API and portal", "RESTOCK_API_PORT", settings.api_host),
        PortClaim(settings.channel_sim_port, "WhatsApp simulator", "RESTOCK_CHANNEL_SIM_PORT"),
    ]


def status_table(processes: list[ManagedProcess], log_dir: Path) -> Table:
    table = Table(
        title="Restock dev stack", caption=f"logs in {log_dir}  ·  Ctrl-C stops everything"
    )
    table.add_column("process")
    table.add_column("pid", justify="right")
    table.add_column("state")
    table.add_column("where")
    for proc in processes:
        table.add_row(
            proc.spec.name,
            str(proc.pid or "-"),
            Text(proc.describe(), style=STATE_STYLE[proc.state]),
            proc.spec.url,
        )
    return table


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _stop_on_termination_signals() -> None:
    """`kill`, a closed terminal or a killed `make` stop the stack like Ctrl-C does."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)


def write_process_file(path: Path, processes: list[ManagedProcess]) -> None:
    """`var/dev-processes.json`: which pid runs what, for tools and tests."""
    table = {
        p.spec.name: {
            "pid": p.pid,
            "state": p.state.value,
            "starts": p.starts,
            "crashes": p.crashes,
        }
        for p in processes
    }
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(table, indent=2))
    partial.replace(path)  # atomic: a reader never sees a half-written file


def run_dev(settings: Settings, *, on_ready: Callable[[], list[str]] | None = None) -> int:
    """Start everything, show status until Ctrl-C, stop everything. Returns the exit code."""
    console = Console()
    busy = busy_port_messages(port_claims(settings))
    if busy:
        for message in busy:
            console.print(f"[bold red]cannot start:[/] {message}")
        return 2
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.var_dir / "logs"
    supervisor = Supervisor(build_specs(settings, log_dir), log_dir)
    _stop_on_termination_signals()
    notes: list[str] = []
    reported: dict[str, int] = {}
    ready_done = False
    try:
        with Live(
            status_table(supervisor.processes, log_dir), console=console, refresh_per_second=4
        ) as live:
            while True:
                supervisor.step()
                if supervisor.all_up and not ready_done:
                    ready_done = True
                    notes = on_ready() if on_ready else []
                for proc in supervisor.processes:
                    if proc.crashes > reported.get(proc.spec.name, 0):
                        reported[proc.spec.name] = proc.crashes
                        notes.append(
                            f"{proc.spec.name} exited ({proc.last_exit}) and is restarted; "
                            f"last log lines:\n{proc.log_tail()}"
                        )
                live.update(
                    Group(status_table(supervisor.processes, log_dir), Text("\n".join(notes)))
                )
                write_process_file(settings.var_dir / "dev-processes.json", supervisor.processes)
                time.sleep(0.25)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        supervisor.stop_all()
        write_process_file(settings.var_dir / "dev-processes.json", supervisor.processes)
        console.print(status_table(supervisor.processes, log_dir))
    return 1 if supervisor.crashes else 0
