"""The inbox: every update a platform delivers is recorded before the platform hears "got it".

A platform that was told "got it" never sends the update again: Telegram's
polling moves its offset past it, its webhook and Slack take the 200 as done.
So an adapter records the update here first (one INSERT, its key the
platform's id for it: a Telegram update_id, a Slack event_id or trigger_id),
and only then acknowledges and handles it. A key recorded before is a
redelivery: acknowledged, not handled again.

Handled means committed: the unit of work that runs the update's command sets
`handled_at` in its own transaction (`mark_in`, called by the bus while
`handling(entry_id)` is open around the update), so a crash either keeps the
command and the mark or neither. An update that ran no command (a refusal, a
turned-away stranger, a form's next question) is marked after its handler
returns (`Inbox.handled`).

What a killed worker left recorded and unhandled is handled again by a live
one: each worker heartbeats the rows it holds (`claimed_at`), and rows whose
claim is older than the lease are taken (`claim_stale`) and fed to the
platform's dispatcher again, as they were first delivered. An update that
failed to be handled MAX_ATTEMPTS times is given up, with the reason kept.
Handled rows are kept for KEEP, long enough for any redelivery to be dropped.
"""
from __future__ import annotations

import logging
import os
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator, Sequence

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core.domain.clock import Clock, to_db
from core.domain.models import InboxEntry

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)  # a claim not renewed for this long belongs to a dead worker
KEEP = timedelta(days=3)  # handled rows are kept this long: a redelivery within it is dropped
MAX_ATTEMPTS = 5  # an update that failed this often is given up (the reason is kept)
KEY_MAX = 200


@dataclass
class Mark:
    """The update being handled in this context; `handled` once a unit of work committed its mark."""

    entry_id: int
    handled: bool = False


_current: ContextVar[Mark | None] = ContextVar("teamflow_inbox_entry", default=None)


@contextmanager
def handling(entry_id: int | None) -> Iterator[Mark | None]:
    """While open, the first unit of work that commits marks inbox row `entry_id` handled with it.
    Context variables follow into database threads (core/infra/offloop.py) and asyncio tasks."""
    if entry_id is None:
        yield None
        return
    mark = Mark(entry_id)
    token = _current.set(mark)
    try:
        yield mark
    finally:
        _current.reset(token)


def current() -> Mark | None:
    """The update being handled in this context, if any."""
    return _current.get()


def mark_in(session: Session, now: datetime) -> Mark | None:
    """Inside a unit of work: the update being handled is handled when this transaction commits.
    Returns the mark, for the caller to set `handled` after the commit (None: nothing to mark)."""
    mark = _current.get()
    if mark is None or mark.handled:
        return None
    session.execute(update(InboxEntry).where(col(InboxEntry.id) == mark.entry_id, col(InboxEntry.handled_at).is_(None))
                    .values(handled_at=to_db(now)))
    return mark


def contended(exc: BaseException) -> bool:
    """A write that failed only because another writer held the store (SQLite's lock, a
    PostgreSQL lock timeout or serialization failure): worth trying again at once, not news
    for the person."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(word in text for word in ("database is locked", "database table is locked", "lock timeout",
                                         "could not serialize", "deadlock detected"))


@dataclass(frozen=True)
class Stale:
    """A recorded update no live worker holds: to be handled again."""

    id: int
    platform: str
    payload: str
    attempts: int


def worker_id() -> str:
    """This process, told apart from any other (and from itself after a restart)."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Inbox:
    """Records updates, marks them handled, and hands a dead worker's over."""

    def __init__(self, store, clock: Clock, *, lease: timedelta = LEASE, keep: timedelta = KEEP) -> None:
        self.store, self.clock, self.lease, self.keep = store, clock, lease, keep
        self.worker = worker_id()

    def record(self, platform: str, key: str, payload: str) -> int | None:
        """The new row's id; None when this key was recorded before (a redelivery)."""
        return self.record_many(platform, [(key, payload)])[0]

    def record_many(self, platform: str, items: Sequence[tuple[str, str]]) -> list[int | None]:
        """Record a batch in one transaction; for each item its id, or None when seen before."""
        if not items:
            return []
        now = to_db(self.clock())
        rows = [{"key": key[:KEY_MAX], "platform": platform, "payload": payload, "received_at": now,
                 "claimed_at": now, "claimed_by": self.worker, "attempts": 0} for key, payload in items]
        with self.store.session() as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            statement = (dialect.insert(InboxEntry).values(rows).on_conflict_do_nothing(index_elements=["key"])
                         .returning(col(InboxEntry.key), col(InboxEntry.id)))
            made = dict(session.execute(statement).all())
        return [made.pop(row["key"], None) for row in rows]

    def handled(self, entry_id: int, error: str | None = None) -> None:
        """Mark a row handled (if its command's unit of work did not already)."""
        with self.store.session() as session:
            session.execute(update(InboxEntry)
                            .where(col(InboxEntry.id) == entry_id, col(InboxEntry.handled_at).is_(None))
                            .values(handled_at=to_db(self.clock()), error=error[:1000] if error else None))

    def give_back(self, entry_id: int, error: str) -> None:
        """Handling failed: no worker holds the row now, so a live one handles it again once its claim
        lapses (the lease is the pause between attempts; MAX_ATTEMPTS gives it up)."""
        with self.store.session() as session:
            session.execute(update(InboxEntry)
                            .where(col(InboxEntry.id) == entry_id, col(InboxEntry.handled_at).is_(None))
                            .values(claimed_by="", error=error[:1000]))

    def heartbeat(self) -> int:
        """Renew this worker's claims on the rows it is handling; how many it holds."""
        with self.store.session() as session:
            return session.execute(update(InboxEntry)
                                   .where(col(InboxEntry.claimed_by) == self.worker,
                                          col(InboxEntry.handled_at).is_(None))
                                   .values(claimed_at=to_db(self.clock()))).rowcount

    def claim_stale(self, platforms: Sequence[str], limit: int = 100) -> list[Stale]:
        """Take rows of these platforms whose claim lapsed (their worker died, or handling failed),
        oldest first; give up the ones tried too often."""
        now = to_db(self.clock())
        with self.store.session() as session:
            query = (select(InboxEntry)
                     .where(col(InboxEntry.handled_at).is_(None), col(InboxEntry.claimed_at) < now - self.lease,
                            col(InboxEntry.platform).in_(list(platforms)))
                     .order_by(col(InboxEntry.id)).limit(limit))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            taken = []
            for row in session.exec(query).all():
                if row.attempts + 1 >= MAX_ATTEMPTS:
                    row.handled_at, row.error = now, f"given up after {MAX_ATTEMPTS} attempts: {row.error or ''}"[:1000]
                    log.error("inbox: %s given up after %s attempts", row.key, MAX_ATTEMPTS)
                    continue
                row.claimed_at, row.claimed_by, row.attempts = now, self.worker, row.attempts + 1
                taken.append(Stale(row.id, row.platform, row.payload, row.attempts))
        return taken

    def release(self) -> int:
        """A graceful stop: this worker's unhandled rows go to the others at once (their claim lapses)."""
        with self.store.session() as session:
            return session.execute(update(InboxEntry)
                                   .where(col(InboxEntry.claimed_by) == self.worker,
                                          col(InboxEntry.handled_at).is_(None))
                                   .values(claimed_at=to_db(self.clock() - 2 * self.lease))).rowcount

    def prune(self) -> int:
        """Forget rows handled longer ago than KEEP."""
        with self.store.session() as session:
            return session.execute(delete(InboxEntry).where(col(InboxEntry.handled_at) < to_db(self.clock() - self.keep))
                                   ).rowcount

    def pending(self) -> int:
        """How many recorded updates wait to be handled (health, tests)."""
        with self.store.read() as session:
            return len(session.exec(select(InboxEntry.id).where(col(InboxEntry.handled_at).is_(None))).all())
