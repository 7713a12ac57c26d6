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

from sqlalchemy import insert, or_
from sqlmodel import Session, col, select

from core.clock import Clock, from_db, to_db
from core.messages import Message
from core.models import AnnouncementPost, CardMessage, Outbox, Person

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
        session.execute(insert(Outbox), [{**r, **stamp} for r in rows])
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


class Delivery:
    """Claims, renders and sends outbox rows through the platform messengers."""

    def __init__(self, store, renderer: Renderer, messengers: Sequence[Messenger], clock: Clock, batch: int = 50,
                 lease: timedelta = LEASE):
        self.store, self.renderer, self.clock, self.batch, self.lease = store, renderer, clock, batch, lease
        self.messengers = list(messengers)

    def messenger_for(self, person: Person) -> Messenger | None:
        """The first configured platform on which the person can be reached."""
        return next((m for m in self.messengers if m.reaches(person)), None)

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many rows were handled."""
        with self.store.session() as session:
            claimed = [(row.id, row.claimed_at) for row in claim(session, self.clock(), self.batch, self.lease)]
        for row_id, claimed_at in claimed:
            await self._deliver(row_id, claimed_at)
        return len(claimed)

    async def drain(self, rounds: int = 100) -> int:
        """Deliver until nothing is due (tests, the console after each turn)."""
        total = 0
        for _ in range(rounds):
            handled = await self.run_once()
            total += handled
            if not handled:
                break
        return total

    async def _deliver(self, row_id: int, claimed_at: datetime) -> None:
        with self.store.session() as session:
            row = session.get(Outbox, row_id, with_for_update=True)
            if row.status != "claimed" or from_db(row.claimed_at) != from_db(claimed_at):
                return  # our lease ran out and another worker took the row: it is theirs now
            person = session.get(Person, row.recipient_id) if row.recipient_id else None
            target = self._target(session, row)
            messenger = self._by_platform(target[0]) if target else self.messenger_for(person)
            if messenger is None:
                if target:
                    self._fail(row, f"the {target[0]} platform is not running", permanent=True)
                else:
                    self._wait_for_contact(row)
                session.add(row)
                return
            message = self.renderer.notice(session, row, person, messenger.platform)
            message.key = row.key
            in_doubt = row.error == IN_DOUBT
            # Recorded before the call: after a crash, this row is known to be in doubt.
            row.status, row.claimed_at, row.attempts = "sending", to_db(self.clock()), row.attempts + 1
            session.add(row)
        try:
            sent = await self._reconciled(messenger, person, target, message) if in_doubt else None
            if sent is None:
                sent = await self._send(messenger, person, target, message)
        except DeliveryError as exc:
            self._record_failure(row_id, exc)
            return
        except Exception as exc:  # a bug or an outage: keep the row, try again later
            log.exception("delivery of outbox row %s failed", row_id)
            self._record_failure(row_id, DeliveryError(repr(exc)))
            return
        self._record_sent(row_id, sent, message)

    @staticmethod
    def _target(session: Session, row: Outbox) -> tuple[str, str, str | None] | None:
        """(platform, chat, message to edit) for channel posts and redraws; None for a person."""
        if row.template == "card_update":
            card = session.get(CardMessage, row.context.get("card_id"))
            return (card.platform, card.chat_id, card.message_id) if card else ("?", "", None)
        if row.chat_id is None:
            return None
        post = session.get(AnnouncementPost, row.context["post_id"]) if "post_id" in row.context else None
        return row.platform, row.chat_id, post.message_id if post else None

    @staticmethod
    async def _reconciled(messenger: Messenger, person, target, message: Message) -> Sent | None:
        """Did an in-doubt notice land? Only some platforms can say; the others resend."""
        reconcile = getattr(messenger, "reconcile", None)
        if reconcile is None:
            log.warning("resending in-doubt notice %s: %s cannot look up sent messages", message.key,
                        messenger.platform)
            return None
        return await reconcile(person, target, message)

    @staticmethod
    async def _send(messenger: Messenger, person: Person | None, target, message: Message) -> Sent | None:
        if target is None:
            return await messenger.send(person, message)
        platform, chat_id, message_id = target
        if message_id is not None:
            await messenger.update(chat_id, message_id, message)
            return None
        return await messenger.send_to_chat(chat_id, message)

    def _by_platform(self, platform: str) -> Messenger | None:
        return next((m for m in self.messengers if m.platform == platform), None)

    def _record_sent(self, row_id: int, sent: Sent | None, message: Message) -> None:
        from core.announcements import remember_post  # late imports: both build on this module
        from core.cards import remember_card

        with self.store.session() as session:
            row = session.get(Outbox, row_id)
            row.status, row.sent_at, row.error = "sent", to_db(self.clock()), None
            if sent is not None:
                row.platform, row.message_ref = sent.platform, f"{sent.chat_id}:{sent.message_id}"
                if message.task_id:
                    remember_card(session, message.task_id, sent, row.recipient_id, self.clock())
                if message.announcement_id:
                    remember_post(session, message.announcement_id, sent.platform, str(sent.chat_id),
                                  str(sent.message_id))
            session.add(row)

    def _record_failure(self, row_id: int, exc: DeliveryError) -> None:
        with self.store.session() as session:
            row = session.get(Outbox, row_id)
            self._fail(row, str(exc), permanent=exc.permanent, retry_after=exc.retry_after)
            session.add(row)

    def _tell_admins(self, row: Outbox, reason: str) -> None:
        """A notice given up on is shown to the admins (never about their own failures)."""
        if row.template == "delivery_failed":
            return
        session = Session.object_session(row)
        admins = session.exec(select(Person.id).where(Person.is_admin == True, Person.active == True)).all()  # noqa: E712
        for admin_id in admins:
            enqueue(session, key=f"failed:{row.id}:{admin_id}", recipient_id=admin_id, template="delivery_failed",
                    task_id=row.task_id, now=self.clock(),
                    context={"failed_id": row.id, "reason": reason[:300], "recipient_id": row.recipient_id,
                             "where": f"{row.platform}:{row.chat_id}" if row.chat_id else None})

    def _wait_for_contact(self, row: Outbox) -> None:
        """Nobody can reach this person yet (say, they never opened the bot): keep the
        notice for when they do (`wake`), and give up only after UNREACHABLE_FOR."""
        if self.clock() - from_db(row.created_at) > UNREACHABLE_FOR:
            self._fail(row, "no configured platform reached this person in time", permanent=True)
            return
        row.status, row.error = "pending", "waiting: no configured platform reaches this person yet"
        row.available_at = to_db(self.clock() + UNREACHABLE_RETRY)

    def _fail(self, row: Outbox, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        row.error = reason[:1000]
        if permanent or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            log.warning("outbox row %s failed for good: %s", row.id, reason)
            self._tell_admins(row, reason)
            return
        delay = retry_after if retry_after is not None else min(2 ** row.attempts, 300)
        row.status, row.available_at = "pending", to_db(self.clock() + timedelta(seconds=delay))
