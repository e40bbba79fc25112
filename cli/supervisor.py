"""Starts the dev stack's processes, keeps them running, and stops them all cleanly.

A child that exits on its own is started again after a back-off (1 s, doubling to 30 s; back
to 1 s once it has stayed up a minute), and the status table says so. Each process writes to
one log across its restarts (`var/logs/<name>.log`, each start marked, rotated at 10 MB), so
a crashed run's last lines are still there after the restart.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0
MAX_LOG_BYTES = 10 * 1024 * 1024


class State(StrEnum):
    WAITING = "waiting"
    STARTING = "starting"
    UP = "up"
    RESTARTING = "restarting"
    STOPPED = "stopped"


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    url: str
    ready: Callable[[int], bool] = field(repr=False)
    """Whether the process is up; given the offset in its log where this start began."""
    after: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ManagedProcess:
    spec: ProcessSpec
    log_path: Path
    state: State = State.WAITING
    popen: subprocess.Popen[bytes] | None = None
    started_at: float | None = None
    starts: int = 0
    crashes: int = 0
    last_exit: int | None = None
    restart_at: float | None = None
    backoff: float = FIRST_BACKOFF_S
    log_offset: int = 0
    _log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def start(self) -> None:
        self._open_log()
        self.popen = subprocess.Popen(
            self.spec.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.spec.env},
            start_new_session=True,  # Ctrl-C reaches only us; we stop children in order
        )
        self.starts += 1
        self.started_at = time.monotonic()
        self.restart_at = None
        self.state = State.STARTING

    def _open_log(self) -> None:
        """Append to the process's log (rotated when large), marking where this start
        begins: readiness reads from there, the crashed run's lines stay above it."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log is not None:
            self._log.close()
        if self.log_path.exists() and self.log_path.stat().st_size > MAX_LOG_BYTES:
            self.log_path.replace(self.log_path.with_name(self.log_path.name + ".1"))
        self._log = self.log_path.open("ab")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._log.write(f"=== start {self.starts + 1} at {stamp} ===\n".encode())
        self._log.flush()
        self.log_offset = self._log.tell()

    def refresh(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.state is State.RESTARTING:
            if self.restart_at is not None and now >= self.restart_at:
                self.start()
            return
        if self.popen is None or self.state is State.STOPPED:
            return
        code = self.popen.poll()
        if code is not None:
            self._crashed(code, now)
        elif self.state is State.STARTING and self.spec.ready(self.log_offset):
            self.state = State.UP
        elif self.started_at is not None and now - self.started_at > STABLE_AFTER_S:
            self.backoff = FIRST_BACKOFF_S

    def _crashed(self, code: int, now: float) -> None:
        self.crashes += 1
        self.last_exit = code
        self.state = State.RESTARTING
        self.restart_at = now + self.backoff
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_S)
        if self._log is not None:
            self._log.write(f"=== exited with {code}; restarting ===\n".encode())
            self._log.flush()

    def describe(self, now: float | None = None) -> str:
        """The state as the status table shows it."""
        now = time.monotonic() if now is None else now
        text = self.state.value
        if self.state is State.RESTARTING and self.restart_at is not None:
            text = f"exited ({self.last_exit}), restarting in {max(self.restart_at - now, 0):.0f} s"
        elif self.crashes:
            text += f" (restarted {self.crashes} times)"
        return text

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.popen.wait()
        self.state = State.STOPPED
        if self._log is not None:
            self._log.close()
            self._log = None

    def _signal(self, sig: signal.Signals) -> None:
        """The child's whole process group: what it started stops with it."""
        assert self.popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Supervisor:
    """Starts each process once the ones it comes after are up, restarts one that exits, and
    stops them in reverse order."""

    def __init__(self, specs: list[ProcessSpec], log_dir: Path) -> None:
        self.processes = [ManagedProcess(s, log_dir / f"{s.name}.log") for s in specs]
        self._by_name = {p.spec.name: p for p in self.processes}

    def step(self) -> None:
        for proc in self.processes:
            proc.refresh()
            if proc.state is State.WAITING and all(
                self._by_name[dep].state is State.UP for dep in proc.spec.after
            ):
                proc.start()

    @property
    def all_up(self) -> bool:
        return all(p.state is State.UP for p in self.processes)

    @property
    def crashes(self) -> int:
        return sum(p.crashes for p in self.processes)

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
