"""The simulator's memory across restarts: every change to its world, in order, in SQLite.

The world's data is generated from a seed and a start date, and everything after that is a
change someone made (a customer added, an order submitted, the clock moved, a fault in the
data). Replaying those changes on the same origin rebuilds the same world, to the carton, so
the journal stores only them, not the world itself. Fault settings are not journaled: they
are a test's or a person's experiment, not the ERP's state.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS origin (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed INTEGER NOT NULL,
    start_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
"""


class JournalInUse(RuntimeError):
    pass


@dataclass(frozen=True)
class Origin:
    seed: int
    start_date: date


class Journal:
    """An append-only log of world changes in one SQLite file (WAL: a crash loses at most
    the change being written)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One simulator per journal: a second would interleave another world's changes.
        self._owner = path.with_name(path.name + ".lock").open("a")
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._owner.close()
            raise JournalInUse(
                f"{path} is used by another ERP simulator; stop it, or give this one its own "
                "--state file"
            ) from None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def origin(self) -> Origin | None:
        row = self._db.execute("SELECT seed, start_date FROM origin").fetchone()
        return None if row is None else Origin(int(row[0]), date.fromisoformat(row[1]))

    def begin(self, origin: Origin) -> None:
        """Start a new world: forget every change and remember where it starts."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM changes")
            self._db.execute("DELETE FROM origin")
            self._db.execute(
                "INSERT INTO origin (id, seed, start_date) VALUES (1, ?, ?)",
                (origin.seed, origin.start_date.isoformat()),
            )
            self._db.execute("COMMIT")

    def append(self, kind: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO changes (kind, body) VALUES (?, ?)", (kind, json.dumps(body))
            )

    def changes(self) -> Iterator[tuple[str, dict[str, Any]]]:
        rows = self._db.execute("SELECT kind, body FROM changes ORDER BY seq").fetchall()
        for kind, body in rows:
            yield kind, json.loads(body)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM changes").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._owner.close()  # releases the lock
