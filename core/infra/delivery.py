"""Delivery: claims outbox rows, renders them, hands them to the platform messengers, records the result.

A batch is claimed and rendered in one transaction, with what its notices
show (recipients, tasks, events, card copies, names, counts) loaded in a few
IN queries for the whole batch. The notices then go into lanes, one per
destination (a chat, a channel, a person's own chat): a lane sends its
notices in order, one call at a time, and up to SLOTS lanes call at once,
so a slow or hanging chat holds one slot, not the others. The pace is the
messengers' (the platform's budgets, shared by every lane and worker).

Each notice is marked "sending" before its call and recorded after it, a
slot held from one to the other: a worker killed mid-batch has at most one
notice in doubt per slot, and leaves the rest simply claimed (taken again
after the lease, never sent twice). The marks and records of all lanes go
to the database together, in one transaction per round (`Ledger`).
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import update
from sqlmodel import Session, col, select

from core.domain.clock import Clock, from_db, to_db
from core.domain.models import AnnouncementPost, CardMessage, Outbox, Person, Task, TaskEvent
from core.infra.lanes import Lanes
from core.infra.offloop import off_loop
from core.presentation.messages import Message
from core.infra.outbox import (
    IN_DOUBT, LEASE, DeliveryError, Messenger, Renderer, Sent, claim, fail, hand_back, mark_sending, wait_for_contact,
)
from core.presentation.views import load_people, page

log = logging.getLogger(__name__)

# Calls in flight at once. Far more than Telegram's 30/s needs at its usual 50-300 ms a call;
# past that, more slots only hold more notices in doubt after a crash (one per slot).
SLOTS = 32
# A call that takes longer gives its slot back (a transient failure, retried with backoff).
# aiogram times a request out after 60 s and slack_sdk after 30 s, but a call is more than
# one request (pacing, Slack's in-place 429 retries, a DM channel opened first): this bounds it all.
CALL_TIMEOUT_S = 30.0


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

    @property
    def destination(self) -> tuple[str, str]:
        """Its lane: the chat or channel it goes to, or the person's own chat on the platform."""
        if self.target is not None:
            return self.target[0], self.target[1]
        return self.messenger.platform, f"person:{self.recipient_id}"


@dataclass
class _Entry:
    """What a lane asks to write: a notice to mark before its call, one sent or failed after it,
    or notices handed back to wait behind a failed one (`behind`, its row id)."""

    mark: Ready | None = None
    sent: tuple[Ready, Sent | None] | None = None
    failed: tuple[Ready, DeliveryError] | None = None
    hand_back: list[Ready] = field(default_factory=list)
    behind: int | None = None
    until: datetime | None = None  # written back for a failed notice: when it is due again (None: never)


class Delivery:
    """Claims, renders and sends outbox rows through the platform messengers."""

    def __init__(self, store, renderer: Renderer, messengers: Sequence[Messenger], clock: Clock, batch: int = 50,
                 lease: timedelta = LEASE, slots: int = SLOTS, call_timeout: float = CALL_TIMEOUT_S):
        self.store, self.renderer, self.clock, self.batch, self.lease = store, renderer, clock, batch, lease
        self.messengers = list(messengers)
        self.slots, self.call_timeout = slots, call_timeout
        self._state: Lanes | None = None
        self._held_back: dict[tuple, tuple[int, datetime]] = {}  # destination -> (row it waits behind, until)

    def messenger_for(self, person: Person) -> Messenger | None:
        """The first configured platform on which the person can be reached."""
        return next((m for m in self.messengers if m.reaches(person)), None)

    async def run_once(self) -> int:
        """Claim what is due now and hand it to the lanes; returns how many rows were claimed.

        First waits until the lanes hold fewer than a batch: a worker claims no more than it
        can soon send (rows sitting in a queue run down their lease). It does not wait for
        the batch to be sent: a slow chat's notices go on in their lane meanwhile."""
        await self._lanes().room(self.batch)
        now = self.clock()
        self._held_back = {d: held for d, held in self._held_back.items() if held[1] > now}
        count, ready = await off_loop(self._claim)
        self._dispatch(ready)
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
                if not self._lanes().tasks:
                    break
                await self.settle()  # then look again: a notice given up on queues one to the admins
        await self.settle()
        return total

    async def _deliver(self, row_id: int, claimed_at: datetime) -> None:
        """One row this worker claimed earlier; nothing if its lease ran out and another worker took it."""
        self._dispatch(await off_loop(self._prepare_claimed, row_id, claimed_at))
        await self.settle()

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
                fail(row, f"the {target[0]} platform is not running", self.clock(), permanent=True)
            else:
                wait_for_contact(row, self.clock())
            return None
        try:
            message = self.renderer.notice(session, row, person, messenger.platform)
        except Exception as exc:  # a bug in one notice must not hold up the batch: it is retried later
            log.exception("rendering outbox row %s failed", row.id)
            row.attempts += 1
            fail(row, repr(exc), self.clock(), permanent=False)
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

    # ----- the lanes: one per destination, many at once --------------------------------

    def _lanes(self) -> Lanes:
        """This event loop's lanes (tests run several loops one after another on one Delivery)."""
        loop = asyncio.get_running_loop()
        if self._state is None or self._state.loop is not loop:
            self._state = Lanes(loop, self.slots, self._write)
        return self._state

    def _dispatch(self, ready: list[Ready]) -> None:
        """Queue each notice behind those to the same destination; a lane starts where none runs."""
        lanes = self._lanes()
        for item in ready:
            lanes.add(item.destination, item, lambda key, queue: self._lane(lanes, key, queue))

    async def settle(self) -> None:
        """Wait until every notice handed to a lane is sent, failed or handed back."""
        await self._lanes().settle()

    async def close(self, grace: float = 5.0) -> None:
        """At shutdown: let the calls in flight finish for `grace` seconds, then stop the lanes (what
        they still held is taken again after the lease, as after a crash)."""
        await self._lanes().close(grace)

    async def _lane(self, lanes: Lanes, destination: tuple, queue: deque[Ready]) -> None:
        """One destination's notices in order, one call at a time. After a notice fails for now, those
        behind it (in this lane or a later one) are handed back to wait with it: claimed again by id
        when it is due, they still arrive in order."""
        try:
            while queue:
                behind = self._waits_behind(destination, queue[0])
                if behind is not None:
                    items = [queue.popleft() for _ in range(len(queue))]
                    try:
                        await lanes.ledger.write(_Entry(hand_back=items, behind=behind))
                    finally:
                        lanes.done(len(items))
                    continue
                async with lanes.slot():
                    failed = await self._turn(lanes, queue)
                if failed is not None:
                    self._held_back[destination] = failed
        except Exception:  # the database failed us: what the lane holds is taken again after the lease
            log.exception("delivery to %s stopped", destination)
        finally:
            lanes.done(len(queue))
            del lanes.queues[destination]

    def _waits_behind(self, destination: tuple, head: Ready) -> int | None:
        """The row a destination's notices wait behind, until it is due again or comes back itself."""
        row_id, until = self._held_back.get(destination, (None, None))
        if row_id is not None and (head.row_id == row_id or self.clock() >= until):
            del self._held_back[destination]
            return None
        return row_id

    async def _turn(self, lanes: Lanes, queue: deque[Ready]) -> tuple[int, datetime] | None:
        """Send the lane's notices while it holds a slot, until another lane waits for one. Each is
        marked before its call in the transaction that records the one before, and the slot is
        held until the last is recorded: after a crash, at most one notice per slot is in doubt.
        After a failure, returns the row the destination must wait for and until when."""
        done: tuple[Ready, Sent | None] | None = None
        try:
            while queue:
                item = queue.popleft()
                try:
                    entry, done = _Entry(mark=item, sent=done), None
                    if not await lanes.ledger.write(entry):
                        continue  # our lease ran out and another worker took the row: it is theirs now
                    try:
                        done = (item, await self._call(item))
                    except Exception as exc:
                        return await self._failed(lanes, item, exc)
                finally:
                    lanes.done(1)
                if lanes.waiting:
                    break
        finally:
            if done is not None:
                await lanes.ledger.write(_Entry(sent=done))
        return None

    @staticmethod
    async def _failed(lanes: Lanes, item: Ready, exc: Exception) -> tuple[int, datetime] | None:
        """Record a failed call; the row the destination must wait for and until when (None when
        it failed for good)."""
        if not isinstance(exc, DeliveryError):  # a bug or an outage: keep the row, try again later
            log.error("delivery of outbox row %s failed", item.row_id, exc_info=exc)
            exc = DeliveryError(repr(exc))
        entry = _Entry(failed=(item, exc))
        await lanes.ledger.write(entry)
        return (item.row_id, entry.until) if entry.until is not None else None

    async def _call(self, item: Ready) -> Sent | None:
        """The platform call, bounded: a call that hangs gives its slot back after `call_timeout`
        and is retried later (it may have landed: like a crash mid-call, Telegram gets it again)."""
        try:
            async with asyncio.timeout(self.call_timeout):
                sent = await self._reconciled(item) if item.in_doubt else None
                return sent if sent is not None else await self._send(item)
        except TimeoutError as exc:
            raise DeliveryError(f"no answer within {self.call_timeout:g}s") from exc

    # ----- what the lanes write, many notices to a transaction --------------------------

    def _write(self, entries: list[_Entry]) -> list[bool]:
        """One transaction for what the lanes asked meanwhile: notices sent, failed and handed
        back, then the notices about to be sent marked "sending"; for each entry, False when
        its notice to mark is no longer ours."""
        with self.store.session() as session:
            self._record_sent(session, [e.sent for e in entries if e.sent])
            for entry in entries:
                if entry.failed:
                    self._record_failure(session, entry)
            session.flush()  # the hand-backs below read the failed rows' new times
            for entry in entries:
                if entry.hand_back:
                    hand_back(session, _by_claim(entry.hand_back), entry.behind)
            marked = mark_sending(session, _by_claim([e.mark for e in entries if e.mark]), self.clock())
        return [entry.mark is None or entry.mark.row_id in marked for entry in entries]

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

    def _record_sent(self, session: Session, done: list[tuple[Ready, Sent | None]]) -> None:
        """The rows are sent (one UPDATE for all); a card or an announcement copy is remembered where it landed."""
        from core.services.announcements import remember_post  # late imports: both build on the outbox
        from core.services.cards import remember_card

        rows: dict[bool, list[dict]] = {True: [], False: []}
        for item, sent in done:
            values = {"id": item.row_id, "status": "sent", "sent_at": to_db(self.clock()), "error": None}
            message = item.message
            if sent is not None:
                values.update(platform=sent.platform, message_ref=f"{sent.chat_id}:{sent.message_id}")
                if message.task_id:
                    # A message just sent is new to the platform; a reconciled one may be known already.
                    remember_card(session, message.task_id, sent, item.recipient_id, self.clock(),
                                  fresh=not item.in_doubt)
                if message.announcement_id:
                    remember_post(session, message.announcement_id, sent.platform, str(sent.chat_id),
                                  str(sent.message_id))
            rows[sent is not None].append(values)
        for same_columns in rows.values():
            if same_columns:  # an executemany by primary key: one statement however many rows
                session.execute(update(Outbox), same_columns)

    def _record_failure(self, session: Session, entry: _Entry) -> None:
        """The row goes back to wait for its retry (`entry.until` says till when), or fails for good."""
        item, exc = entry.failed
        row = session.get(Outbox, item.row_id)
        fail(row, str(exc), self.clock(), permanent=exc.permanent, retry_after=exc.retry_after)
        entry.until = from_db(row.available_at) if row.status == "pending" else None


def _by_claim(items: list[Ready]) -> dict[datetime, list[int]]:
    """Row ids by the claim that holds them (one claim, usually: a batch is claimed at once)."""
    found: dict[datetime, list[int]] = {}
    for item in items:
        found.setdefault(item.claimed_at, []).append(item.row_id)
    return found


def _by_ids(session: Session, model, ids: set) -> list:
    """Rows of a model by id, in one query (none when there are no ids)."""
    ids = {i for i in ids if i is not None}
    return list(session.exec(select(model).where(col(model.id).in_(ids)))) if ids else []
