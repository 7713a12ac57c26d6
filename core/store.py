"""The store: one engine per process, one session per use case (the unit of work).

SQLite runs in WAL mode with a busy timeout and takes its write lock at BEGIN
(`BEGIN IMMEDIATE`), so concurrent writers wait their turn instead of failing
with "database is locked". PostgreSQL needs none of this.

What only one process may do at a time, whatever the database (migrating,
syncing the org file at start), runs under `exclusive`: a transaction-scoped
advisory lock on PostgreSQL; on SQLite the BEGIN IMMEDIATE above already is one.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from core import models  # noqa: F401  (registers the tables on SQLModel.metadata)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL advisory lock keys, one per job that only one worker may run at a time.
# Never renumber MIGRATIONS_LOCK: a worker of the previous release may be migrating.
MIGRATIONS_LOCK = 731400  # `teamflow db upgrade` (core/migrations/env.py)
ORG_SYNC_LOCK = 731401  # syncing the org file into the store (core/org.py `sync_org`)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine for a SQLite file, in-memory SQLite, or PostgreSQL URL."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo)
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_engine(url: str, echo: bool) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
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
        # the busy timeout says.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

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

    @classmethod
    def from_url(cls, url: str) -> "Store":
        return cls(make_engine(url))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: everything inside commits together or not at all."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"
