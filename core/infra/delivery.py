"""Delivery: claims outbox rows, renders them, hands them to the platform messengers, records the result.

A batch is claimed and rendered in one transaction, with what its notices
show (recipients, tasks, events, card copies, names, counts) loaded in a few
IN queries for the whole batch. Each notice is then marked "sending" just
before its call, in the transaction that records the previous one as sent:
at any moment at most one notice of a worker is in doubt, the one it was
sending, and a worker killed mid-batch leaves the rest simply claimed (taken
again after the lease, never sent twice).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import update
from sqlmodel import Session, col, select

from core.domain.clock import Clock, from_db, to_db
from core.domain.models import AnnouncementPost, CardMessage, Outbox, Person, Task, TaskEvent
from core.infra.offloop import off_loop
from core.presentation.messages import Message
from core.infra.outbox import (
    IN_DOUBT, LEASE, MAX_ATTEMPTS, UNREACHABLE_FOR, UNREACHABLE_RETRY, DeliveryError, Messenger, Renderer, Sent,
    claim, enqueue,
)
from core.presentation.views import load_people, page

log = logging.getLogger(__name__)


@dataclass
class Ready:
    """A claimed notice, rendered, with where it goes: what the call needs, outside any transaction."""

    row_id: int
    claimed_at: datetime
    recipient_id: int | None
    messenger: Messenger
    person: Person | None
    target: tuple[str, str, str | None] | None
    message: Message
    in_doubt: bool


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
        count, ready = await off_loop(self._claim)
        await self._send_all(ready)
        return count

    def _claim(self) -> tuple[int, list[Ready]]:
        """Claim a batch and render it, in one transaction on a database thread."""
        with self.store.session() as session:
            rows = claim(session, self.clock(), self.batch, self.lease)
            return len(rows), self._prepare(session, rows)

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
        """One row this worker claimed earlier; nothing if its lease ran out and another worker took it."""
        await self._send_all(await off_loop(self._prepare_claimed, row_id, claimed_at))

    def _prepare_claimed(self, row_id: int, claimed_at: datetime) -> list[Ready]:
        with self.store.session() as session:
            row = session.get(Outbox, row_id)
            if row.status != "claimed" or from_db(row.claimed_at) != from_db(claimed_at):
                return []  # our lease ran out and another worker took the row: it is theirs now
            return self._prepare(session, [row])

    # ----- in the claim transaction ---------------------------------------------------

    def _prepare(self, session: Session, rows: list[Outbox]) -> list[Ready]:
        """Render every claimed row for its reader, with what they show loaded for the whole batch."""
        people, tasks, more = self._preload(session, rows)
        ready = []
        with page(session, tasks, more_people=more):
            for row in rows:
                item = self._prepare_one(session, row, people.get(row.recipient_id))
                if item is not None:
                    ready.append(item)
        return ready

    @staticmethod
    def _preload(session: Session, rows: list[Outbox]) -> tuple[dict[int, Person], list[Task], list[int]]:
        """Recipients, tasks, events and card copies of a batch in one IN query each (held by the caller's
        page and these lists while rendering); returns the people the events name, for the page."""
        people = load_people(session, [r.recipient_id for r in rows])
        tasks = _by_ids(session, Task, {r.task_id for r in rows if r.task_id})
        events = _by_ids(session, TaskEvent, {r.context.get("event_id") for r in rows if r.template == "task_event"})
        cards = _by_ids(session, CardMessage, {r.context.get("card_id") for r in rows if r.template == "card_update"})
        session.info.setdefault("held", []).extend([*events, *cards])
        named = [i for e in events for i in (e.actor_id, e.data.get("assignee_id"), e.data.get("previous_id"),
                                             *e.data.get("watchers", []))]
        return people, tasks, [i for i in named if isinstance(i, int)]

    def _prepare_one(self, session: Session, row: Outbox, person: Person | None) -> Ready | None:
        """The row rendered and ready to send; None when it cannot go now (recorded on the row)."""
        target = self._target(session, row)
        messenger = self._by_platform(target[0]) if target else self.messenger_for(person) if person else None
        if messenger is None:
            if target:
                self._fail(row, f"the {target[0]} platform is not running", permanent=True)
            else:
                self._wait_for_contact(row)
            return None
        try:
            message = self.renderer.notice(session, row, person, messenger.platform)
        except Exception as exc:  # a bug in one notice must not hold up the batch: it is retried later
            log.exception("rendering outbox row %s failed", row.id)
            row.attempts += 1
            self._fail(row, repr(exc), permanent=False)
            return None
        message.key = row.key
        return Ready(row.id, row.claimed_at, row.recipient_id, messenger, person, target, message,
                     row.error == IN_DOUBT)

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

    # ----- the calls, each notice marked before and recorded after ---------------------

    async def _send_all(self, ready: list[Ready]) -> None:
        """Send one after another; each mark of "sending" also records the previous notice as sent."""
        done: tuple[Ready, Sent | None] | None = None
        for item in ready:
            if not await off_loop(self._mark_sending, item, done):
                done = None
                continue  # our lease ran out and another worker took the row: it is theirs now
            done = None
            try:
                sent = await self._reconciled(item) if item.in_doubt else None
                if sent is None:
                    sent = await self._send(item)
            except DeliveryError as exc:
                await off_loop(self._record_failure, item.row_id, exc)
                continue
            except Exception as exc:  # a bug or an outage: keep the row, try again later
                log.exception("delivery of outbox row %s failed", item.row_id)
                await off_loop(self._record_failure, item.row_id, DeliveryError(repr(exc)))
                continue
            done = (item, sent)
        if done is not None:
            await off_loop(self._record_last, done)

    def _record_last(self, done: tuple[Ready, Sent | None]) -> None:
        with self.store.session() as session:
            self._record_sent(session, *done)

    def _mark_sending(self, item: Ready, done: tuple[Ready, Sent | None] | None) -> bool:
        """Record the previous notice as sent and mark this one as being sent, in one transaction:
        after a crash, this row is known to be in doubt. False when the row is no longer ours."""
        now = to_db(self.clock())
        with self.store.session() as session:
            if done is not None:
                self._record_sent(session, *done)
            marked = session.execute(
                update(Outbox).where(Outbox.id == item.row_id, Outbox.status == "claimed",
                                     Outbox.claimed_at == item.claimed_at)
                .values(status="sending", claimed_at=now, attempts=Outbox.attempts + 1))
            return marked.rowcount == 1

    @staticmethod
    async def _reconciled(item: Ready) -> Sent | None:
        """Did an in-doubt notice land? Only some platforms can say; the others resend."""
        reconcile = getattr(item.messenger, "reconcile", None)
        if reconcile is None:
            log.warning("resending in-doubt notice %s: %s cannot look up sent messages", item.message.key,
                        item.messenger.platform)
            return None
        return await reconcile(item.person, item.target, item.message)

    @staticmethod
    async def _send(item: Ready) -> Sent | None:
        if item.target is None:
            return await item.messenger.send(item.person, item.message)
        platform, chat_id, message_id = item.target
        if message_id is not None:
            await item.messenger.update(chat_id, message_id, item.message)
            return None
        return await item.messenger.send_to_chat(chat_id, item.message)

    def _by_platform(self, platform: str) -> Messenger | None:
        return next((m for m in self.messengers if m.platform == platform), None)

    def _record_sent(self, session: Session, item: Ready, sent: Sent | None) -> None:
        """The row is sent (one UPDATE); a card or an announcement copy is remembered where it landed."""
        from core.services.announcements import remember_post  # late imports: both build on the outbox
        from core.services.cards import remember_card

        values = {"status": "sent", "sent_at": to_db(self.clock()), "error": None}
        message = item.message
        if sent is not None:
            values.update(platform=sent.platform, message_ref=f"{sent.chat_id}:{sent.message_id}")
            if message.task_id:
                # A message just sent is new to the platform; a reconciled one may be known already.
                remember_card(session, message.task_id, sent, item.recipient_id, self.clock(), fresh=not item.in_doubt)
            if message.announcement_id:
                remember_post(session, message.announcement_id, sent.platform, str(sent.chat_id), str(sent.message_id))
        session.execute(update(Outbox).where(Outbox.id == item.row_id).values(**values))

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


def _by_ids(session: Session, model, ids: set) -> list:
    """Rows of a model by id, in one query (none when there are no ids)."""
    ids = {i for i in ids if i is not None}
    return list(session.exec(select(model).where(col(model.id).in_(ids)))) if ids else []
