"""Async engine and session factory, built once per process."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVarTuple

from pydantic_core import from_json, to_json
from sqlalchemy import CursorResult, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.selectable import TypedReturnsRows

_Row = TypeVarTuple("_Row")

READ_ONLY = "restock_read_only"
"""Execution option of a session that only reads (see `reading`)."""

# One writer at a time per SQLite engine, in this process: writers queue here in order,
# instead of in SQLite's busy handler, which sleeps 1, 2, 5, 10, 20… ms between tries.
_sqlite_write_turns: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder; make `var/` on first use."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def compact_json(value: Any) -> str:
    """JSON columns are stored without spaces: smaller rows, and the API splices some of them
    into responses verbatim (api.recommendation_json).

    pydantic's JSON (Rust, already installed with pydantic) writes and reads the columns
    several times faster than the `json` module: every sync and plan reads each product's
    weekly arrays. Its text is the `json` module's compact text (UTF-8, not escaped), NaN
    and infinities included; only exponents are written shorter (1e-7 for 1e-07)."""
    return to_json(value, inf_nan_mode="constants").decode()


def create_engine(url: str, *, pool_size: int = 10, **kwargs: Any) -> AsyncEngine:
    """`pool_size` connections kept open, and as many more while busy (PostgreSQL; SQLite
    keeps its own)."""
    ensure_sqlite_dir(url)
    kwargs.setdefault("json_serializer", compact_json)
    kwargs.setdefault("json_deserializer", from_json)
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if not is_sqlite:
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", pool_size)
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, and transactions that take the write lock when they begin.

    A deferred SQLite transaction that reads and then writes cannot wait for the write lock
    (busy_timeout does not apply to the upgrade) and fails with "database is locked" when
    another writer got there first, as concurrent activities do. BEGIN IMMEDIATE makes it
    wait its turn instead. Production runs on PostgreSQL; this keeps the embedded default
    honest under the same concurrency.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL sync: no fsync per commit. A process crash loses nothing; a power
        # cut may lose the last commits. SQLite is the embedded development default (the
        # cycle's writes redo themselves: Temporal retries, idempotency keys; a settings or
        # logout write would not); production runs PostgreSQL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        # Checkpoint the WAL every 100 pages instead of SQLite's 1,000: the commit that crosses
        # the mark copies the pages back and fsyncs, and at 1,000 pages (4 MB) that stalled
        # about one approval in twenty by 150-190 ms (bench/cycle.py); at 100 the stalls are
        # small enough to vanish in the p99, and the WAL stays under half a megabyte.
        cursor.execute("PRAGMA wal_autocheckpoint=100")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # deferred: a reader never waits for writers
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    _sqlite_write_turns[engine.sync_engine] = asyncio.Lock()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def create_autocommit_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose statements each commit on their own, for requests that read.

    On PostgreSQL the driver then sends no BEGIN and no COMMIT: two of a read route's four
    round trips (BEGIN, the caller's session row, the route's query, COMMIT), about 0.15-0.25
    ms of the API's CPU per request (bench/api.py). Each statement reads the last commit, as
    a request begun a moment later would; a write in such a session lands at once (the only
    ones a read makes: a customer's default settings row on first use, the same whoever
    writes it). On SQLite, ordinary sessions: their transactions are how its writers queue."""
    if engine.dialect.name == "sqlite":
        return create_session_factory(engine)
    return create_session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def execute_core(
    session: AsyncSession,
    statement: TypedReturnsRows[*_Row],
    params: Mapping[str, Any] | None = None,
) -> CursorResult[*_Row]:
    """A Core select on the session's connection, past the ORM's execution: its compile
    state and its per-row loading cost about 0.1 ms of CPU per statement (bench/api.py), for
    selects of table columns that need neither. Nothing is flushed first: for reads in a
    session with no pending changes (the API's per-request reads)."""
    connection = await session.connection()
    return await connection.execute(statement, params)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The one place that commits: everything in the block lands together or not at all."""
    async with factory() as session, _write_turn(session), session.begin():
        yield session


@asynccontextmanager
async def reading(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for reads only. On SQLite its transaction is deferred, so it neither waits
    for nor holds up writers (WAL: it reads the last commit); a write in it is a bug and may
    fail with "database is locked". On PostgreSQL it is an ordinary session."""
    async with factory(execution_options={READ_ONLY: True}) as session:
        yield session


def _write_turn(session: AsyncSession) -> AbstractAsyncContextManager[Any]:
    bind = session.bind
    lock = _sqlite_write_turns.get(bind.sync_engine) if isinstance(bind, AsyncEngine) else None
    return lock if lock is not None else nullcontext()


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
