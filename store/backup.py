"""Backups of the store and their restore: SQLite's online backup API (a consistent copy
while the API and worker keep writing), `pg_dump`/`pg_restore` for PostgreSQL (custom
format; the restore is one transaction, so a failed restore leaves the database as it was).

A backup is written beside its destination and renamed into place when complete, so a
failed or interrupted backup never leaves a half file under the name given.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from core.errors import ConfigurationError, InvalidInput

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
PG_TIMEOUT_S = 3600


@dataclass(frozen=True)
class BackupFile:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    bytes: int


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(f"RESTOCK_DATABASE_URL: cannot back up a {backend} database")
    return backend


def _sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise ConfigurationError("RESTOCK_DATABASE_URL: an in-memory SQLite database has no file")
    return Path(url.database)


def _pg(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it
    (a password on the command line would show in `ps`)."""
    plain = url.set(drivername="postgresql", password=None)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(
            f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client)"
        )
    return found


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_S)
    if done.returncode != 0:
        raise InvalidInput(f"{what} failed: {done.stderr.strip() or done.returncode}")


def backup(database_url: str, path: Path) -> BackupFile:
    url = make_url(database_url)
    kind = _kind(url)
    path = path.expanduser()
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory; give the backup file's name", field="path")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if kind == "sqlite":
            source_path = _sqlite_path(url)
            if not source_path.exists():
                raise InvalidInput(f"no database at {source_path}", field="RESTOCK_DATABASE_URL")
            partial.unlink(missing_ok=True)
            with (
                sqlite3.connect(f"file:{source_path}?mode=ro", uri=True) as source,
                sqlite3.connect(partial) as target,
            ):
                source.backup(target)
            source.close()
            target.close()
        else:
            dsn, env = _pg(url)
            _run(
                [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", dsn],
                env,
                "pg_dump",
            )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupFile(path=path, kind=kind, bytes=path.stat().st_size)


def backup_kind(path: Path) -> str:
    """What database a backup file is of, from its first bytes."""
    if not path.is_file():
        raise InvalidInput(f"no backup file at {path}", field="path")
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise InvalidInput(
        f"{path} is not a Restock backup (neither an SQLite database nor a pg_dump custom archive)",
        field="path",
    )


def has_data(database_url: str) -> bool:
    """Whether the database already holds Restock's tables (a restore would replace them)."""
    url = make_url(database_url)
    if _kind(url) == "sqlite":
        target = _sqlite_path(url)
        if not target.exists() or target.stat().st_size == 0:
            return False
        with sqlite3.connect(target) as db:
            found = db.execute(
                "select count(*) from sqlite_master where type = 'table' and name = 'customers'"
            ).fetchone()
        db.close()
        return bool(found and found[0])
    dsn, env = _pg(url)
    done = subprocess.run(
        [_tool("psql"), "--no-psqlrc", "--tuples-only", "--no-align", "--command",
         "select to_regclass('public.customers') is not null", dsn],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if done.returncode != 0:
        raise InvalidInput(f"cannot reach the database: {done.stderr.strip()}")
    return done.stdout.strip() == "t"


def restore(database_url: str, path: Path) -> str:
    """Replace the database's contents with the backup's; returns the backup's kind."""
    url = make_url(database_url)
    kind = _kind(url)
    found = backup_kind(path)
    if found != kind:
        raise InvalidInput(
            f"{path} is a {found} backup; RESTOCK_DATABASE_URL is a {kind} database",
            field="path",
        )
    if kind == "sqlite":
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as source:
            check = source.execute("pragma integrity_check").fetchone()
            if not check or check[0] != "ok":
                raise InvalidInput(f"{path} is damaged: {check}", field="path")
            with sqlite3.connect(target_path) as target:
                source.backup(target)  # one step: readers see the old or the new, whole
            target.close()
        source.close()
        return kind
    dsn, env = _pg(url)
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={dsn}",
            str(path),
        ],
        env,
        "pg_restore",
    )
    return kind
