"""Starts the dev stack's processes, watches them, and stops them all cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO


class State(StrEnum):
    WAITING = "waiting"
    STARTING = "starting"
    UP = "up"
    EXITED = "exited"
    STOPPED = "stopped"


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    url: str
    ready: Callable[[], bool]
    after: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ManagedProcess:
    spec: ProcessSpec
    log_path: Path
    state: State = State.WAITING
    popen: subprocess.Popen[bytes] | None = None
    started_at: float | None = None
    _log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")  # this run's log only: readiness reads it
        self.popen = subprocess.Popen(
            self.spec.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.spec.env},
            start_new_session=True,  # Ctrl-C reaches only us; we stop children in order
        )
        self.started_at = time.monotonic()
        self.state = State.STARTING

    def refresh(self) -> None:
        if self.popen is None or self.state in (State.STOPPED, State.EXITED):
            return
        if self.popen.poll() is not None:
            self.state = State.EXITED
        elif self.state is State.STARTING and self.spec.ready():
            self.state = State.UP

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.state is not State.EXITED:
            self.state = State.STOPPED
        if self._log is not None:
            self._log.close()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Supervisor:
    """Starts each process once the ones it comes after are up; stops them in reverse order."""

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
    def failed(self) -> list[ManagedProcess]:
        return [p for p in self.processes if p.state is State.EXITED]

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
