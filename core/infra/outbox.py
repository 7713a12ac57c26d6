"""The outbox: notices written in the transaction that caused them, delivered later.

`enqueue` is called by use cases inside their unit of work. `Delivery` claims
pending rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never share
a row; SQLite has one writer at a time anyway), renders each for its
recipient, hands it to the messenger of the recipient's platform and records
the platform's message reference.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, Sequence

from sqlalchemy import insert, or_, update
from sqlmodel import Session, col, select

from core.domain.clock import from_db, to_db
from core.domain.models import Outbox, Person
from core.presentation.messages import Message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=1)
IN_DOUBT = "in doubt: the worker sending it stopped mid-call"
UNREACHABLE_RETRY = timedelta(hours=1)
UNREACHABLE_FOR = timedelta(days=7)


def enqueue(
    session: Session,
    *,
    key: str,
    template: str,
    now: datetime,
    recipient_id: int | None = None,
    platform: str | None = None,
    chat_id: str | None = None,
    task_id: int | None = None,
    context: dict[str, Any] | None = None,
) -> Outbox | None:
    """Add a notice, to a person or to a channel (platform + chat id), unless its key exists."""
    _check_target(recipient_id, chat_id)
    if session.exec(select(Outbox.id).where(Outbox.key == key)).first() is not None:
        return None
    row = Outbox(
        key=key, recipient_id=recipient_id, platform=platform, chat_id=chat_id, template=template,
        task_id=task_id, context=context or {}, available_at=to_db(now), created_at=to_db(now),
    )
    session.add(row)
    return row


def _check_target(recipient_id: int | None, chat_id: str | None) -> None:
    if (recipient_id is None) == (chat_id is None):
        raise ValueError("a notice goes to a person or to a channel")


def notice(*, key: str, template: str, recipient_id: int | None = None, platform: str | None = None,
           chat_id: str | None = None, task_id: int | None = None, context: dict[str, Any] | None = None) -> dict:
    """One notice for `enqueue_many`: the same words as `enqueue`'s."""
    _check_target(recipient_id, chat_id)
    return {"key": key, "template": template, "recipient_id": recipient_id, "platform": platform,
            "chat_id": chat_id, "task_id": task_id, "context": context or {}}


_INSERT = insert(Outbox.__table__)


def enqueue_many(session: Session, notices: Sequence[dict], *, now: datetime, fresh: bool = False) -> int:
    """Add many notices (built with `notice`) in one INSERT; those whose key exists are left out.

    `fresh`: the caller knows no key can exist yet (each names a row made in
    this transaction), which saves looking them up. Returns how many were added.
    """
    rows = list({n["key"]: n for n in notices}.values())
    if rows and not fresh:
        taken = set(session.exec(select(Outbox.key).where(col(Outbox.key).in_([r["key"] for r in rows]))))
        rows = [r for r in rows if r["key"] not in taken]
    if rows:
        stamp = {"status": "pending", "attempts": 0, "available_at": to_db(now), "created_at": to_db(now)}
        session.execute(_INSERT, [{**r, **stamp} for r in rows])  # plain rows: no ORM bulk path
    return len(rows)


def wake(session: Session, person_id: int, now: datetime) -> None:
    """The person just became reachable: what waited for them goes out now."""
    rows = session.exec(select(Outbox).where(
        Outbox.recipient_id == person_id, Outbox.status == "pending", Outbox.available_at > to_db(now)))
    for row in rows:
        row.available_at = to_db(now)
        session.add(row)


class DeliveryError(Exception):
    """A messenger could not send. Permanent errors are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Sent:
    """Where a message landed on its platform, for later edits and replies."""

    platform: str
    chat_id: str
    message_id: str


class Messenger(Protocol):
    """The outbound port: one per platform. Speaks intent, not platform API."""

    platform: str

    def reaches(self, person: Person) -> bool: ...

    async def send(self, person: Person, message: Message) -> Sent: ...

    async def update(self, chat_id: str, message_id: str, message: Message) -> None:
        """Redraw a message sent earlier; "not modified" is not an error."""

    async def send_to_chat(self, chat_id: str, message: Message) -> Sent:
        """Post to a channel or group (announcements)."""


class Renderer(Protocol):
    def notice(self, session: Session, row: Outbox, person: Person | None, platform: str) -> Message: ...


def claim(session: Session, now: datetime, limit: int, lease: timedelta = LEASE) -> list[Outbox]:
    """Take up to `limit` rows for this worker: due ones, and ones a dead worker held.

    A row "claimed" by a worker that died was certainly not sent: it is simply
    taken again. A row left "sending" may or may not have reached the platform
    (the worker died during the call): it comes back marked in doubt, for the
    messenger to reconcile where the platform can tell.
    """
    stale = to_db(now - lease)
    stmt = (
        select(Outbox)
        .where(or_(
            (Outbox.status == "pending") & (Outbox.available_at <= to_db(now)),
            col(Outbox.status).in_(("claimed", "sending")) & (Outbox.claimed_at < stale),
        ))
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.exec(stmt))
    for row in rows:
        if row.status == "sending":
            row.error = IN_DOUBT
        row.status, row.claimed_at = "claimed", to_db(now)
        session.add(row)
    return rows


def mark_sending(session: Session, claims: dict[datetime, list[int]], now: datetime) -> set[int]:
    """Mark claimed rows as being sent, those still held by the claim named (one UPDATE per claim):
    after a crash they are known to be in doubt. Returns the rows marked."""
    marked: set[int] = set()
    for claimed_at, ids in claims.items():
        marked.update(session.execute(
            update(Outbox).where(col(Outbox.id).in_(ids), Outbox.status == "claimed", Outbox.claimed_at == claimed_at)
            .values(status="sending", claimed_at=to_db(now), attempts=Outbox.attempts + 1)
            .returning(Outbox.id).execution_options(synchronize_session=False)).scalars())
    return marked


def hand_back(session: Session, claims: dict[datetime, list[int]], behind: int) -> None:
    """Unclaim rows still held by the claims named, due when the row they wait behind is:
    claimed again by id, they go after it, in order."""
    due = select(Outbox.available_at).where(Outbox.id == behind).scalar_subquery()
    for claimed_at, ids in claims.items():
        session.execute(
            update(Outbox).where(col(Outbox.id).in_(ids), Outbox.status == "claimed", Outbox.claimed_at == claimed_at)
            .values(status="pending", available_at=due).execution_options(synchronize_session=False))


def fail(row: Outbox, reason: str, now: datetime, *, permanent: bool, retry_after: float | None = None) -> None:
    """A notice that did not go: due again after retry_after or a backoff, or given up on for good
    (permanent, or out of attempts) and shown to the admins."""
    row.error = reason[:1000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        log.warning("outbox row %s failed for good: %s", row.id, reason)
        _tell_admins(row, reason, now)
        return
    delay = retry_after if retry_after is not None else min(2 ** row.attempts, 300)
    row.status, row.available_at = "pending", to_db(now + timedelta(seconds=delay))


def _tell_admins(row: Outbox, reason: str, now: datetime) -> None:
    """A notice given up on is shown to the admins (never about their own failures)."""
    if row.template == "delivery_failed":
        return
    session = Session.object_session(row)
    admins = session.exec(select(Person.id).where(Person.is_admin == True, Person.active == True)).all()  # noqa: E712
    for admin_id in admins:
        enqueue(session, key=f"failed:{row.id}:{admin_id}", recipient_id=admin_id, template="delivery_failed",
                task_id=row.task_id, now=now,
                context={"failed_id": row.id, "reason": reason[:300], "recipient_id": row.recipient_id,
                         "where": f"{row.platform}:{row.chat_id}" if row.chat_id else None})


def wait_for_contact(row: Outbox, now: datetime) -> None:
    """Nobody can reach this person yet (say, they never opened the bot): keep the
    notice for when they do (`wake`), and give up only after UNREACHABLE_FOR."""
    if now - from_db(row.created_at) > UNREACHABLE_FOR:
        fail(row, "no configured platform reached this person in time", now, permanent=True)
        return
    row.status, row.error = "pending", "waiting: no configured platform reaches this person yet"
    row.available_at = to_db(now + UNREACHABLE_RETRY)

