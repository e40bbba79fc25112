"""`restock db backup` and `restock db restore`, run as the command they are, on SQLite and
PostgreSQL: the restore drill of docs/operations.md, and refusals that lose nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from store.customers import upsert_customer
from store.db import create_engine, create_session_factory, unit_of_work
from store.migrate import current_head, upgrade_async
from store.models import Customer
from tests.conftest import _admin_execute

ROOT = Path(__file__).resolve().parents[2]


async def _new_database(like: str, tmp_path: Path) -> tuple[str, str | None]:
    """An empty database of the same kind as `like`: its URL and (PostgreSQL) its name."""
    url = make_url(like)
    if url.get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}", None
    name = f"restock_backup_{uuid.uuid4().hex[:10]}"
    await _admin_execute(like, f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), name


@pytest.fixture
async def databases(database_url: str, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two fresh databases of this run's kind (the live one, a new one for the drill)."""
    made = [await _new_database(database_url, tmp_path) for _ in range(2)]
    try:
        yield [url for url, _ in made]
    finally:
        for _, name in made:
            if name is not None:
                await _admin_execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def restock(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESTOCK_ENV": "test", "RESTOCK_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def add_customers(url: str, *codes: str) -> None:
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            for code in codes:
                await upsert_customer(
                    session, erp_code=code, name=f"Customer {code}", timezone="UTC"
                )
    finally:
        await engine.dispose()


async def customers(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.execute(select(Customer.erp_code).order_by(Customer.erp_code))
            return list(rows.scalars())
    finally:
        await engine.dispose()


async def revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("select version_num from alembic_version"))
            return found.scalar_one_or_none()
    finally:
        await engine.dispose()


async def test_backup_then_restore_over_live_data_and_into_a_new_database(
    databases: list[str], tmp_path: Path
) -> None:
    live, drill = databases
    await upgrade_async(live)
    await add_customers(live, "A-1", "B-2")
    backup_file = tmp_path / "backups" / "restock.backup"

    made = restock(live, "backup", str(backup_file))
    assert made.returncode == 0, made.stderr
    assert "backed up" in made.stdout and backup_file.stat().st_size > 0
    assert not list(backup_file.parent.glob(".*partial"))

    await add_customers(live, "C-3")  # written after the backup
    refused = restock(live, "restore", str(backup_file))
    assert refused.returncode == 2
    assert "already holds data" in refused.stderr and "--yes" in refused.stderr
    assert await customers(live) == ["A-1", "B-2", "C-3"]  # nothing touched

    restored = restock(live, "restore", str(backup_file), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert await customers(live) == ["A-1", "B-2"]

    # The drill: a new, empty database takes the backup without --yes, at the schema's head.
    into_new = restock(drill, "restore", str(backup_file))
    assert into_new.returncode == 0, into_new.stderr
    assert await customers(drill) == ["A-1", "B-2"]
    assert await revision(drill) == current_head()


async def test_a_file_that_is_not_a_backup_of_this_kind_is_refused_and_nothing_changes(
    databases: list[str], tmp_path: Path
) -> None:
    live, _ = databases
    await upgrade_async(live)
    await add_customers(live, "A-1")
    is_sqlite = make_url(live).get_backend_name() == "sqlite"
    cases = {
        "notes.txt": (b"hello", "is not a Restock backup"),
        "other.backup": (
            b"PGDMP\x01\x0e" if is_sqlite else b"SQLite format 3\x00" + bytes(100),
            "is a postgresql backup" if is_sqlite else "is a sqlite backup",
        ),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        answer = restock(live, "restore", str(tmp_path / name), "--yes")
        assert answer.returncode == 2, answer.stdout
        assert message in answer.stderr, answer.stderr
    missing = restock(live, "restore", str(tmp_path / "nowhere.backup"), "--yes")
    assert missing.returncode == 2 and "no backup file at" in missing.stderr
    to_a_directory = restock(live, "backup", str(tmp_path))
    assert to_a_directory.returncode == 2 and "is a directory" in to_a_directory.stderr
    assert await customers(live) == ["A-1"]
