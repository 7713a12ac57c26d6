"""Outgoing webhooks: task and request events, posted as signed JSON to the receivers the org file names.

The org file says, for example::

    webhooks:
      - name: crm                                  # optional: keeps the hook's place when its URL changes
        url: https://crm.example.com/hooks/teamflow
        secret_env: TEAMFLOW_CRM_SECRET            # the variable holding the secret (or `secret: …`)
        events: [task.created, task.done, request.approved]   # or task.*, request.*, "*"
        timeout: 10                                # seconds per call (default 10, at most 60)

Every change to a task is already a TaskEvent row; each hook keeps a cursor in
that history (the `webhook` table, written by the org sync; a new hook starts
at the end of it). `run_due`, a scheduler job, claims the hooks that are due
(FOR UPDATE SKIP LOCKED plus a lease: one worker per hook at a time), reads the
events after the cursor, and POSTs those the hook subscribes to, in order and
outside any transaction, moving the cursor after each. Nothing here runs in a
chat turn: a slow or dead receiver never holds the chat up.

Each POST carries the event as JSON and the headers `X-Teamflow-Signature:
sha256=<HMAC-SHA256 of the body with the hook's secret>` (as for bot steps,
core.forms.automation), `X-Teamflow-Event` (its name) and `X-Teamflow-Event-Id`,
the same on every retry: delivery is at least once, so a receiver dedupes by
that id. Any 2xx answer is success. A failure is retried, the same event first
(order is kept), after 10 s, 20 s, 40 s, … at most an hour apart. An event the
receiver refuses (a 3xx or 4xx answer other than 408 and 429) is given up
after 3 tries, any other once it is a day old; a given-up event is recorded
(the `webhookfailure` table, and the log) and the hook goes on with the next.
When a hook has been failing for 15 minutes the admins are told, once for each
run of failures.

Event ids come from a database sequence; on PostgreSQL a transaction may commit
its event after a later id is already visible. A hook that meets such a gap in
the ids waits for it (GAP_WAIT) before taking it for a rolled-back transaction.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

import aiohttp
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from core.domain.clock import from_db, to_db
from core.domain.models import FormRequest, Person, Task, TaskEvent, Webhook, WebhookFailure
from core.forms.automation import SIGNATURE_HEADER, encode, sign
from core.infra.outbox import enqueue

log = logging.getLogger(__name__)

EVENT_HEADER = "X-Teamflow-Event"  # the event's name, e.g. task.created
EVENT_ID_HEADER = "X-Teamflow-Event-Id"  # the same on every retry of the event: receivers dedupe by it

# TaskEvent kinds -> the names receivers subscribe to. A request's moves are
# TaskEvents of its task too; a request's task closes with request.approved,
# request.rejected or request.cancelled (never task.done).
EVENTS = {
    "created": "task.created",
    "assigned": "task.assigned",
    "taken": "task.taken",
    "due_set": "task.due_changed",
    "snoozed": "task.snoozed",
    "commented": "task.commented",
    "attached": "task.attached",
    "linked": "task.linked",
    "watched": "task.watched",
    "closed": "task.done",
    "reopened": "task.reopened",
    "form_started": "request.submitted",
    "form_attached": "request.submitted",
    "decided": "request.step_decided",
    "returned": "request.returned",
    "resubmitted": "request.resubmitted",
    "escalated": "request.escalated",
    "bot_waiting": "request.bot_waiting",
    "bot_failed": "request.bot_failed",
    "tasks_created": "request.tasks_created",
    "request_done": "request.approved",
    "request_rejected": "request.rejected",
    "request_cancelled": "request.cancelled",
}
NAMES = tuple(dict.fromkeys(EVENTS.values()))
PATTERNS = ("*", "task.*", "request.*")

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0
SCAN = 500  # events looked at per hook and claim
BATCH = 20  # events sent per hook and claim
LEASE = timedelta(minutes=1)  # on top of the batch's timeouts: then a dead worker's hook is claimed again
BACKOFF = timedelta(seconds=10)  # doubled on each failure of the same event…
MAX_BACKOFF = timedelta(hours=1)  # …up to this
REFUSED_TRIES = 3  # a receiver that refuses an event (4xx) is asked this many times
KEEP = timedelta(days=1)  # any other failing event is retried until it is this old
ALERT_AFTER = timedelta(minutes=15)  # failing this long: the admins hear of it
GAP_WAIT = timedelta(minutes=2)  # beyond any transaction that writes task events


def event_name(kind: str) -> str:
    """The public name of a TaskEvent kind (an unlisted kind is task.<kind>, sent only to wildcards)."""
    return EVENTS.get(kind, f"task.{kind}")


def matches(patterns: Iterable[str], name: str) -> bool:
    """Does a hook subscribing to `patterns` (names, task.*, request.*, *) want the event `name`?"""
    return any(p == "*" or p == name or (p.endswith(".*") and name.startswith(p[:-1])) for p in patterns)


@dataclass(frozen=True)
class Hook:
    """One webhook as the org file describes it."""

    url: str
    events: tuple[str, ...]
    name: str | None = None
    secret_env: str | None = None
    secret: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    line: int = 0

    @property
    def key(self) -> str:
        """What the hook's progress is kept under: its name, else its URL."""
        return self.name or self.url


def save(session: Session, hooks: Sequence[Hook], now: datetime) -> None:
    """The org file's hooks into the store (at sync). A new hook starts at the end of the
    history; one no longer in the file is dropped with its progress."""
    rows = {row.key: row for row in session.exec(select(Webhook)).all()}
    end = session.exec(select(func.max(TaskEvent.id))).one() or 0
    for hook in hooks:
        row = rows.pop(hook.key, None) or Webhook(key=hook.key, url=hook.url, cursor=end, created_at=to_db(now))
        row.url, row.events, row.timeout = hook.url, list(hook.events), hook.timeout
        row.secret_env, row.secret = hook.secret_env, hook.secret
        session.add(row)
    for row in rows.values():
        session.delete(row)
    session.flush()


# --- sending -------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    at: datetime
    body: bytes


@dataclass(frozen=True)
class Batch:
    """A hook's events to send now, under one claim."""

    key: str
    claim: int
    url: str
    secret: str | None
    secret_env: str | None
    timeout: float
    events: list[Event]
    end: int  # the cursor once all of them are sent: the last event id looked at


async def run_due(store, now: datetime, *, http: aiohttp.ClientSession | None = None,
                  environ: Mapping[str, str] = os.environ) -> int:
    """Send every due event of every hook; returns how many POSTs were made."""
    batches = claim(store, now, environ)
    if not batches:
        return 0
    own = http is None
    http = http or aiohttp.ClientSession()
    made = 0
    try:
        for batch in batches:
            made += await _send(store, http, batch, now)
    finally:
        if own:
            await http.close()
    return made


async def _send(store, http: aiohttp.ClientSession, batch: Batch, now: datetime) -> int:
    """The batch's events in order; stops at the first one to retry later."""
    for number, event in enumerate(batch.events, 1):
        if not settle(store, batch, event, await post(http, batch, event), now):
            return number
    finish(store, batch)
    return len(batch.events)


def claim(store, now: datetime, environ: Mapping[str, str] = os.environ) -> list[Batch]:
    """Take the due hooks (one worker each: SKIP LOCKED, then a lease) and read their next events."""
    with store.session() as session:
        due = or_(col(Webhook.next_at).is_(None), col(Webhook.next_at) <= to_db(now))
        hooks = session.exec(select(Webhook).where(due).order_by(Webhook.key).with_for_update(skip_locked=True)).all()
        batches = []
        for hook in hooks:
            rows, end = _scan(session, hook, now)
            wanted = []
            for row in rows:
                if matches(hook.events, event_name(row.kind)):
                    wanted.append(row)
                    if len(wanted) == BATCH:
                        end = row.id
                        break
            if not wanted:
                hook.cursor = max(hook.cursor, end)  # nothing this hook wants: just move on
                session.add(hook)
                continue
            hook.claim += 1
            hook.next_at = to_db(now + LEASE + timedelta(seconds=hook.timeout * len(wanted)))
            session.add(hook)
            batches.append(_batch(hook, [_event(session, row) for row in wanted], end, environ))
        return batches


def _event(session: Session, row: TaskEvent) -> Event:
    return Event(row.id, event_name(row.kind), from_db(row.at), encode(payload(session, row)))


def _batch(hook: Webhook, events: list[Event], end: int, environ: Mapping[str, str]) -> Batch:
    """The hook's events under its current claim, with its secret read from the environment."""
    secret = environ.get(hook.secret_env) if hook.secret_env else hook.secret
    return Batch(hook.key, hook.claim, hook.url, secret, hook.secret_env, hook.timeout, events, end)


def _scan(session: Session, hook: Webhook, now: datetime) -> tuple[list[TaskEvent], int]:
    """The events after the hook's cursor, up to the first gap in the ids that is not yet
    GAP_WAIT old (a transaction may still commit it); returns them and the last id taken."""
    rows = session.exec(select(TaskEvent).where(TaskEvent.id > hook.cursor).order_by(TaskEvent.id).limit(SCAN)).all()
    taken: list[TaskEvent] = []
    expected = hook.cursor + 1
    for row in rows:
        if row.id != expected:
            if hook.gap_at != expected:
                hook.gap_at, hook.gap_since = expected, to_db(now)
                break
            if now - from_db(hook.gap_since) < GAP_WAIT:
                break
            log.info("webhook %s: events %s-%s never appeared; going on", hook.key, expected, row.id - 1)
        taken.append(row)
        expected = row.id + 1
    end = taken[-1].id if taken else hook.cursor
    if hook.gap_at is not None and hook.gap_at <= end:
        hook.gap_at, hook.gap_since = None, None
    return taken, end


def payload(session: Session, row: TaskEvent) -> dict:
    """What a receiver gets: the event, who did it, the task as it is now, and its request if any."""
    task = session.get(Task, row.task_id)
    body = {
        "id": str(row.id), "event": event_name(row.kind), "kind": row.kind, "at": _iso(row.at),
        "actor": _person(session, row.actor_id), "system": bool(row.data.get("system")), "data": row.data,
        "task": {"id": task.id, "title": task.title, "status": task.status,
                 "creator": _handle(session, task.creator_id), "assignee": _handle(session, task.assignee_id),
                 "due_at": _iso(task.due_at), "created_at": _iso(task.created_at), "closed_at": _iso(task.closed_at)},
    }
    request = session.exec(select(FormRequest).where(FormRequest.task_id == task.id)).first()
    if request is not None:
        body["request"] = {"id": request.id, "form": request.form_id, "state": request.state,
                           "author": _handle(session, request.author_id), "values": request.values,
                           "problem": request.problem}
    return body


async def post(http: aiohttp.ClientSession, batch: Batch, event: Event) -> tuple[int | None, str]:
    """(HTTP status, body), or (None, why) when the receiver gave no answer."""
    if not batch.secret:
        why = f"the variable {batch.secret_env} is not set" if batch.secret_env else "no secret is configured"
        return None, f"no secret to sign with: {why}"
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(batch.secret, event.body),
               EVENT_HEADER: event.name, EVENT_ID_HEADER: str(event.id)}
    try:
        async with http.post(batch.url, data=event.body, headers=headers, allow_redirects=False,
                             timeout=aiohttp.ClientTimeout(total=batch.timeout)) as response:
            return response.status, (await response.text(errors="replace"))[:300]
    except asyncio.TimeoutError:
        return None, f"no answer within {batch.timeout:g} s"
    except aiohttp.ClientError as exc:
        return None, f"cannot reach the receiver: {exc.__class__.__name__}: {exc}"[:300]
    except Exception as exc:  # a bug or an odd answer: counted as a failure, tried again later
        log.exception("webhook %s: posting event %s failed", batch.key, event.id)
        return None, f"cannot post: {exc.__class__.__name__}: {exc}"[:300]


def settle(store, batch: Batch, event: Event, result: tuple[int | None, str], now: datetime) -> bool:
    """Record how a POST went; True when the batch goes on with its next event."""
    status, text = result
    with store.session() as session:
        hook = session.exec(select(Webhook).where(Webhook.key == batch.key).with_for_update()).first()
        if hook is None or hook.claim != batch.claim:
            return False  # dropped from the org file, or our lease ran out and another worker has it
        session.add(hook)
        if status is not None and 200 <= status < 300:
            hook.cursor, hook.attempts, hook.error, hook.failing_since, hook.alerted = event.id, 0, None, None, False
            hook.sent, hook.sent_at = hook.sent + 1, to_db(now)
            return True
        hook.attempts += 1
        text = text.replace("\x00", "").strip()  # PostgreSQL keeps no NUL in text
        reason = text if status is None else f"the receiver answered HTTP {status}" + (f": {text}" if text else "")
        hook.error = reason[:1000]
        hook.failing_since = hook.failing_since or to_db(now)
        refused = status is not None and status not in (408, 429) and status < 500
        go_on = hook.attempts >= REFUSED_TRIES if refused else now - event.at >= KEEP
        if go_on:
            session.add(WebhookFailure(hook=hook.key, event_id=event.id, event=event.name, reason=reason[:1000],
                                       attempts=hook.attempts, at=to_db(now)))
            log.warning("webhook %s: gave up on event %s (%s) after %s tries: %s", hook.key, event.id, event.name,
                        hook.attempts, reason)
            hook.cursor, hook.attempts = event.id, 0
        else:
            hook.cursor = event.id - 1
            hook.next_at = to_db(now + min(BACKOFF * 2 ** (hook.attempts - 1), MAX_BACKOFF))
        if not hook.alerted and now - from_db(hook.failing_since) >= ALERT_AFTER:
            _tell_admins(session, hook, now)
            hook.alerted = True
        return go_on


def finish(store, batch: Batch) -> None:
    """The whole batch is through: the cursor moves past what it looked at, the lease ends."""
    with store.session() as session:
        hook = session.exec(select(Webhook).where(Webhook.key == batch.key).with_for_update()).first()
        if hook is None or hook.claim != batch.claim:
            return
        hook.cursor, hook.next_at = max(hook.cursor, batch.end), None
        session.add(hook)


def _tell_admins(session: Session, hook: Webhook, now: datetime) -> None:
    """A failing receiver is shown to the admins, once for each run of failures."""
    tag = hashlib.sha256(hook.key.encode("utf-8")).hexdigest()[:16]
    since = from_db(hook.failing_since).isoformat()
    admins = session.exec(select(Person.id).where(Person.is_admin == True, Person.active == True)).all()  # noqa: E712
    for admin_id in admins:
        enqueue(session, key=f"webhook:{tag}:{since}:{admin_id}", recipient_id=admin_id, template="webhook_failed",
                now=now, context={"name": hook.key if hook.key != hook.url else None, "url": hook.url,
                                  "reason": (hook.error or "")[:300]})


def _iso(moment: datetime | None) -> str | None:
    return from_db(moment).isoformat() if moment else None


def _handle(session: Session, person_id: int | None) -> str | None:
    person = session.get(Person, person_id) if person_id else None
    return person.handle if person else None


def _person(session: Session, person_id: int) -> dict | None:
    person = session.get(Person, person_id)
    return {"handle": person.handle, "name": person.name} if person else None
