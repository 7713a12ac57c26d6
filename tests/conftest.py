"""Shared fixtures: a fixed clock, stores on SQLite (and PostgreSQL when CI has it), the app."""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sqlite3
import tempfile
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import SQLModel

from adapters.console.messenger import ConsoleMessenger
from bot.app import DEMO_ORG, build_app
from bot.settings import load_settings
from core.infra.store import Store, create_all

# Monday 30 November 2026, 10:00 in Moscow.
START = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)


class FakeClock:
    """An injectable clock that moves only when a test says so."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


_OWN_DATABASE: dict[str, str] = {}


def postgres_url() -> str:
    """A database of this test process's own on the TEST_POSTGRES_URL server (made at first use,
    dropped at exit), so two test runs on one server never empty each other's tables; or skip
    the test saying why."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL runs are skipped (CI sets it)")
    if url not in _OWN_DATABASE:
        _OWN_DATABASE[url] = _own_database(url)
    return _OWN_DATABASE[url]


def _own_database(url: str) -> str:
    """CREATE DATABASE teamflow_test_<pid> on the server; DROP it when the process ends."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"teamflow_test_{os.getpid()}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()
    atexit.register(drop)
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def fresh_store(url: str) -> Store:
    """A store with every table empty: a copy of a template file on SQLite; on PostgreSQL the
    tables emptied (TRUNCATE, ~30 ms) when they match the models, else dropped and created."""
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        shutil.copyfile(_template("create_all", create_all), sqlite_file)
        return Store.from_url(url)
    store = Store.from_url(url)
    if _has_the_models_tables(store.engine):
        names = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return store
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    SQLModel.metadata.drop_all(store.engine)
    create_all(store.engine)
    return store


def _sqlite_file(url: str) -> str | None:
    """The file behind a SQLite URL; None for anything else (PostgreSQL, in-memory)."""
    prefix = "sqlite:///"
    return url[len(prefix):] if url.startswith(prefix) and len(url) > len(prefix) else None


_TEMPLATES: dict[str, str] = {}


def _template(kind: str, build) -> str:
    """A SQLite file built once per test process (`build(engine)`); tests copy it instead of
    creating ~40 tables (or running every migration) each time."""
    if kind not in _TEMPLATES:
        path = os.path.join(tempfile.mkdtemp(prefix="teamflow-template-"), f"{kind}.db")
        store = Store.from_url(f"sqlite:///{path}")
        build(store.engine)
        store.engine.dispose()
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file, which is copied
        _TEMPLATES[kind] = path
    return _TEMPLATES[kind]


def _has_the_models_tables(engine) -> bool:
    """Does the database hold exactly the models' tables with their column counts (not a schema
    an older migration or another test left)?"""
    expected = {table.name: len(table.columns) for table in SQLModel.metadata.sorted_tables}
    with engine.connect() as conn:
        found = dict(conn.exec_driver_sql(
            "SELECT table_name, count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name <> 'alembic_version' GROUP BY table_name").all())
    return found == expected


@pytest.fixture
async def redis():
    """An asyncio Redis client on TEST_REDIS_URL, or skip the test saying why."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: Redis runs are skipped (CI sets it)")
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> str:
    """Each store test runs on a SQLite file and, when available, on PostgreSQL."""
    if request.param == "postgres":
        return postgres_url()
    return f"sqlite:///{tmp_path / 'teamflow.db'}"


@pytest.fixture
def store(db_url):
    store = fresh_store(db_url)
    yield store
    store.engine.dispose()


def app_database_url(tmp_path) -> str:
    """Where app-level tests keep their data: a SQLite file, or PostgreSQL when CI's
    second pass sets TEAMFLOW_TEST_DATABASE=postgres (the whole suite, again)."""
    if os.environ.get("TEAMFLOW_TEST_DATABASE") == "postgres":
        return postgres_url()
    return f"sqlite:///{tmp_path / 'teamflow.db'}"


def migrated_url(tmp_path) -> str:
    """An app database emptied and brought to head with the real migrations (runtime tests);
    on SQLite a copy of a file migrated once per test process."""
    from bot.db import upgrade

    url = app_database_url(tmp_path)
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        shutil.copyfile(_template("migrated", lambda engine: upgrade(str(engine.url))), sqlite_file)
        return url
    fresh_store(url).engine.dispose()
    engine = Store.from_url(url).engine
    SQLModel.metadata.drop_all(engine)
    engine.dispose()
    upgrade(url)
    return url


@pytest.fixture
def sqlite_store(tmp_path):
    """The store app-level tests run on (SQLite by default; see app_database_url)."""
    store = fresh_store(app_database_url(tmp_path))
    yield store
    store.engine.dispose()


@pytest.fixture
def messenger() -> ConsoleMessenger:
    return ConsoleMessenger()


def make_app(store: Store, messenger, clock, org_file=DEMO_ORG):
    """The real composition root with the console messenger and a fixed clock."""
    settings = load_settings(_env_file=None, DATABASE_URL="sqlite://")
    return build_app(settings, store=store, messengers=[messenger] if messenger else [], clock=clock, org_file=org_file)


@pytest.fixture
def app(sqlite_store, messenger, clock):
    return make_app(sqlite_store, messenger, clock)


@pytest.fixture
def forms_dir():
    """A directory of extra form files for the `driver`'s app (TEAMFLOW_FORMS_DIR); a test module that
    needs its own forms overrides this fixture."""
    return None


@pytest.fixture(params=["console", "telegram", "slack"])
def driver(request, sqlite_store, clock, forms_dir, monkeypatch):
    """The same dialog scenario on each platform (tests/dialogs.py): the console, Telegram, Slack."""
    from tests.dialogs import ConsoleDriver, SlackDriver, TelegramDriver

    marker = request.node.get_closest_marker("chat_only")
    if marker is not None and request.param in marker.kwargs.get("not_on", ("slack",)):
        pytest.skip(marker.kwargs.get("reason", "asked field by field in chat; Slack fills it in a modal "
                                                 "(tests/test_slack_forms.py)"))
    if forms_dir is not None:
        monkeypatch.setenv("TEAMFLOW_FORMS_DIR", str(forms_dir))
    if request.param == "console":
        messenger = ConsoleMessenger()
        found = ConsoleDriver(make_app(sqlite_store, messenger, clock), messenger, clock)
    elif request.param == "telegram":
        found = TelegramDriver(sqlite_store, clock)
    else:
        found = SlackDriver(sqlite_store, clock)
    yield found
    found.close()
