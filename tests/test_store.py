"""The store: WAL and busy timeout on SQLite, transactions, the same behaviour on PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.domain.models import Outbox, Person, Task, TaskEvent
from core.services import tasks
from tests.conftest import START


def add_person(store, handle: str, **fields) -> int:
    with store.session() as session:
        person = Person(handle=handle, name=handle.title(), created_at=START, **fields)
        session.add(person)
        session.flush()
        return person.id


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_store):
    if not sqlite_store.is_sqlite:
        pytest.skip("a SQLite setting: this pass runs on PostgreSQL")
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_failed_unit_of_work_leaves_nothing_behind(store):
    olga = add_person(store, "olga")
    with pytest.raises(RuntimeError):
        with store.session() as session:
            tasks.create_task(session, olga, "Half-done", now=START)
            raise RuntimeError("crash before commit")
    with store.session() as session:
        assert session.exec(select(Task)).all() == []
        assert session.exec(select(Outbox)).all() == []
        assert session.exec(select(TaskEvent)).all() == []


def test_times_come_back_aware_and_unchanged(store):
    olga = add_person(store, "olga")
    with store.session() as session:
        task_id = tasks.create_task(session, olga, "Timed", now=START, due_at=START.replace(hour=15)).task.id
    with store.session() as session:
        task = session.get(Task, task_id)
        assert task.due_at == START.replace(hour=15)
        assert task.due_at.tzinfo is not None


def test_unique_handles_and_identities_are_enforced_by_the_database(store):
    add_person(store, "olga", telegram_id=5_000_000_001)  # beyond 32 bits, as Telegram ids are
    with pytest.raises(Exception):
        add_person(store, "olga")
    with pytest.raises(Exception):
        add_person(store, "other", telegram_id=5_000_000_001)


def test_concurrent_writers_never_see_database_is_locked(store):
    """Eight threads create tasks at once; every one lands, none fails."""
    people = [add_person(store, f"worker{i}") for i in range(8)]
    errors: list[BaseException] = []

    def work(person_id: int) -> None:
        try:
            for n in range(15):
                with store.session() as session:
                    tasks.create_task(session, person_id, f"Task {n}", now=START)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.session() as session:
        assert len(session.exec(select(Task)).all()) == 8 * 15
        ids = [t.id for t in session.exec(select(Task))]
        assert len(set(ids)) == len(ids)
