"""The store: one engine per process, one session per use case (the unit of work).

SQLite runs in WAL mode with a busy timeout and takes its write lock at BEGIN
(`BEGIN IMMEDIATE`), so concurrent writers wait their turn instead of failing
with "database is locked". PostgreSQL needs none of this.

What only one process may do at a time, whatever the database (migrating,
syncing the org file at start), runs under `exclusive`: a transaction-scoped
advisory lock on PostgreSQL; on SQLite the BEGIN IMMEDIATE above already is one.

Units of work run on worker threads (core/infra/offloop.py), several at once. On
SQLite the threads of this process queue for the write lock on a Python lock,
in order, instead of in SQLite's busy handler (which polls, sleeping up to
100 ms between tries); other processes still meet the busy timeout. `read()`
is a unit of work that only reads: on SQLite it begins deferred, so in WAL mode
it neither waits for a writer nor holds one up. In-memory SQLite is one
connection shared by every thread (StaticPool): there every session, reads
too, takes its turn.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from core.domain import models  # noqa: F401  (registers the tables on SQLModel.metadata)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL advisory lock keys, one per job that only one worker may run at a time.
# Never renumber MIGRATIONS_LOCK: a worker of the previous release may be migrating.
MIGRATIONS_LOCK = 731400  # `teamflow db upgrade` (core/migrations/env.py)
ORG_SYNC_LOCK = 731401  # syncing the org file into the store (core/config/org.py `sync_org`)
READ_ONLY = "teamflow_read_only"  # execution option: this transaction only reads (BEGIN, not BEGIN IMMEDIATE)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine for a SQLite file, in-memory SQLite, or PostgreSQL URL."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo)
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _in_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:")


def _sqlite_engine(url: str, echo: bool) -> Engine:
    in_memory = _in_memory(url)
    kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, echo=echo, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised via every test
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised via every test
        # Take the write lock up front: a deferred transaction that later
        # upgrades to a writer can fail at once with SQLITE_BUSY, whatever
        # the busy timeout says. A read-only unit of work (Store.read) begins deferred.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


def exclusive(connection: Connection, key: int) -> None:
    """Wait until no other transaction holds lock `key`, then hold it until this one ends.

    Workers that start together each run the same job (migrations, the org sync):
    one runs it, the others wait here and then, reading what it committed, find
    nothing left to do. Call it before the job's first read: under READ COMMITTED
    every statement after the wait sees the winner's rows. On SQLite the
    transaction already holds the database's only write lock (BEGIN IMMEDIATE).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def create_all(engine: Engine) -> None:
    """Create every table directly (tests); production uses `teamflow db upgrade`."""
    SQLModel.metadata.create_all(engine)


class Store:
    """Hands out units of work: a session that commits on success, rolls back on error."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        sqlite = engine.dialect.name == "sqlite"
        shared = sqlite and _in_memory(engine.url.render_as_string())
        # Writers of this process take turns here (reentrant: a read inside a write is fine).
        self._write_turn = threading.RLock() if sqlite else None
        self._read_turn = self._write_turn if shared else None
        self._reader = engine.execution_options(**{READ_ONLY: True}) if sqlite else engine

    @classmethod
    def from_url(cls, url: str) -> "Store":
        return cls(make_engine(url))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: everything inside commits together or not at all."""
        with self._write_turn or nullcontext(), Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite it never waits for a writer); nothing is committed."""
        with self._read_turn or nullcontext(), Session(self._reader, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"
