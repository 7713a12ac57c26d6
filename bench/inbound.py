"""Inbound: `/task` through the chat down to the committed outbox row, against a bare insert.

The baseline is the store alone (one Task row committed per transaction, same
SQLite file settings), so the ratio shows what parsing, time reading,
permission checks, history and outbox rows cost on top of the storage.
"""
from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bot.app import DEMO_ORG, build_app
from bot.settings import load_settings
from core.models import Person, Task
from core.store import Store, create_all
from sqlmodel import select

N = 500
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)


def _store(directory: Path, name: str) -> Store:
    store = Store.from_url(f"sqlite:///{directory / name}")
    create_all(store.engine)
    return store


def bare_inserts(store: Store, person_id: int) -> float:
    """Tasks per second: one committed INSERT each."""
    start = time.perf_counter()
    for n in range(N):
        with store.session() as session:
            session.add(Task(title=f"Bare {n}", creator_id=person_id, created_at=NOW, updated_at=NOW))
    return N / (time.perf_counter() - start)


def chat_creations(app, person_id: int) -> float:
    """Tasks per second through Chat.handle: parse, read the time, create, notify, render."""
    start = time.perf_counter()
    for n in range(N):
        app.chat.handle(person_id, f"/task Prepare model {n} @pavel @maria by завтра в 15:00")
    return N / (time.perf_counter() - start)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = load_settings(_env_file=None, DATABASE_URL="sqlite://")
        app = build_app(settings, store=_store(directory, "chat.db"), clock=lambda: NOW, org_file=DEMO_ORG)
        with app.store.session() as session:
            olga = session.exec(select(Person).where(Person.handle == "olga")).one().id
        bare = _store(directory, "bare.db")
        with bare.session() as session:
            person = Person(handle="olga", name="Olga", created_at=NOW)
            session.add(person)
            session.flush()
            bare_id = person.id
        baseline = bare_inserts(bare, bare_id)
        measured = chat_creations(app, olga)
    print(f"inbound /task via chat: {measured:8.0f} tasks/s   baseline bare insert: {baseline:8.0f} rows/s   "
          f"ratio {measured / baseline:.2f}")
