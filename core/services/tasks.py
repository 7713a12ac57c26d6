"""Task use cases. Each takes a unit of work, the actor and plain values.

Each checks permission, changes the store, records the change as a TaskEvent,
and writes the notices it causes to the outbox, all in the caller's
transaction. Nothing is sent from here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from core.domain.clock import from_db, to_db
from core.domain.errors import BadInput, Forbidden, NotFound
from core.presentation.i18n import N_
from core.services import cards, reminders
from core.domain.models import (
    CLOSED_STATUSES, Attachment, BoardColumn, Comment, FormRequest, Person, Task, TaskEvent,
    TaskLink, TaskStatus, TaskWatcher,
)
from core.infra.outbox import enqueue_many, notice
from core.services.people import get_active, manager_chain

TITLE_MAX = 200
COMMENT_MAX = 4000
URL_MAX = 2000
DESCRIPTION_MAX = 10000
MAX_WATCHERS = 50

NOT_FOUND = N_("Task #%(id)s doesn't exist or isn't shared with you. /tasks lists yours.")
NOT_ALLOWED = N_("Only the creator, the assignee or an admin can %(what)s task #%(id)s.")
TITLE_EMPTY = N_("A task needs a title, like: /task Prepare the 3D model @olga by tomorrow 15:00")
TITLE_TOO_LONG = N_("That title is %(length)s characters long; keep it under %(max)s and put details in a comment.")
TEXT_EMPTY = N_("The comment is empty. Write it after the task number: /comment 42 Looks good")
TEXT_TOO_LONG = N_("That text is %(length)s characters long; the limit is %(max)s.")
ALREADY_DONE = N_("Task #%(id)s is already closed.")
NOT_DONE = N_("Task #%(id)s is open already; there is nothing to reopen.")
ALREADY_ASSIGNED = N_("Task #%(id)s is already taken by %(name)s.")
CLOSED_TASK = N_("Task #%(id)s is closed; reopen it first.")
NO_DUE = N_("Task #%(id)s has no deadline to snooze; set one with /due %(id)s tomorrow 15:00")
BAD_URL = N_("That doesn't look like a link; send one that starts with http:// or https://")
SELF_LINK = N_("A task can't be linked to itself.")
TOO_MANY_WATCHERS = N_("A task can have at most %(max)s watchers.")
REQUEST_ON_ITS_WAY = N_("#%(id)s is a request on its way: it closes when its route ends. Its author can take it "
                        "back with /withdraw %(id)s.")
REQUEST_FINISHED = N_("#%(id)s is a finished request: it can't be reopened. Start a new one with /form.")
# The states of a form request (core/forms) still walking its route: its task follows the route, not /done.
REQUEST_OPEN_STATES = ("active", "rework")

WHAT_CLOSE, WHAT_REOPEN = N_("close"), N_("reopen")
WHAT_ASSIGN, WHAT_DUE, WHAT_SNOOZE = N_("reassign"), N_("change the deadline of"), N_("snooze")


@dataclass
class Outcome:
    """What a use case did: the task and the events that happened."""

    task: Task
    events: list[TaskEvent] = field(default_factory=list)


# ----- permissions ---------------------------------------------------------

def watcher_ids(session: Session, task_id: int) -> list[int]:
    """Ids of the people watching a task."""
    return list(session.exec(select(TaskWatcher.person_id).where(TaskWatcher.task_id == task_id)))


def participants(session: Session, task: Task) -> set[int]:
    """Creator, assignee and watchers."""
    ids = {task.creator_id, *watcher_ids(session, task.id)}
    if task.assignee_id:
        ids.add(task.assignee_id)
    return ids


def can_see(session: Session, task: Task, person: Person) -> bool:
    """Participants, admins, and the managers above the creator or assignee."""
    if person.is_admin or person.id in participants(session, task):
        return True
    for member_id in filter(None, (task.creator_id, task.assignee_id)):
        member = session.get(Person, member_id)
        if member and person.id in {m.id for m in manager_chain(session, member)}:
            return True
    return False


def can_manage(task: Task, person: Person) -> bool:
    """Creator, assignee or admin may close, reopen, reassign, re-date."""
    return person.is_admin or person.id in (task.creator_id, task.assignee_id)


def visible_task(session: Session, actor: Person, task_id: int) -> Task:
    """The task, if it exists and the actor may see it; else one refusal for both."""
    task = session.get(Task, task_id) if 0 < task_id < 2**62 else None
    if task is None or not can_see(session, task, actor):
        raise NotFound(NOT_FOUND, id=task_id)
    return task


def managed_task(session: Session, actor: Person, task_id: int, what: str) -> Task:
    """The task, if the actor may change its life (close, reopen, assign, due)."""
    task = visible_task(session, actor, task_id)
    if not can_manage(task, actor):
        raise Forbidden(NOT_ALLOWED, what=what, id=task_id)
    return task


# ----- history and notices -------------------------------------------------

def record(session: Session, task: Task, actor: Person, kind: str, now: datetime, **data) -> TaskEvent:
    """Append an event to the task's history and tell everyone concerned."""
    task.updated_at = to_db(now)
    session.add(task)
    event = TaskEvent(task_id=task.id, actor_id=actor.id, kind=kind, data=data, at=to_db(now))
    session.add(event)
    session.flush()
    told = {task.creator_id, task.assignee_id, *watcher_ids(session, task.id)}
    # Every key names the event just written, so none can exist: no lookups, one INSERT.
    notices = _event_notices(task.id, event.id, told - {actor.id}) + card_notices(session, task.id, event.id)
    enqueue_many(session, notices, now=now, fresh=True)
    return event


def _event_notices(task_id: int, event_id: int, told) -> list[dict]:
    """The event's notice for each person told of it."""
    return [notice(key=f"event:{event_id}:{person_id}", recipient_id=person_id, template="task_event",
                   task_id=task_id, context={"event_id": event_id})
            for person_id in sorted(set(told) - {None})]


def card_notices(session: Session, task_id: int, event_id: int) -> list[dict]:
    """Every copy of the card the bot has sent gets redrawn (where the platform can edit)."""
    return [notice(key=f"card:{card.id}:{event_id}", recipient_id=card.person_id, template="card_update",
                   task_id=task_id, context={"card_id": card.id})
            for card in cards.copies(session, task_id)
            if card.platform in cards.EDITABLE_PLATFORMS and card.person_id]


def refresh_cards(session: Session, task_id: int, event_id: int, now: datetime) -> None:
    """Every copy of the card the bot has sent gets redrawn (where the platform can edit)."""
    enqueue_many(session, card_notices(session, task_id, event_id), now=now, fresh=True)


def _check_text(text: str, limit: int, empty_msgid: str) -> str:
    text = (text or "").strip()
    if not text:
        raise BadInput(empty_msgid)
    if len(text) > limit:
        raise BadInput(TEXT_TOO_LONG if empty_msgid == TEXT_EMPTY else TITLE_TOO_LONG, length=len(text), max=limit)
    return text


# ----- use cases -------------------------------------------------------------

def create_task(
    session: Session, actor_id: int, title: str, *, now: datetime, assignee_id: int | None = None,
    watcher_ids_: tuple[int, ...] = (), due_at: datetime | None = None, description: str = "",
) -> Outcome:
    """Create a task; the assignee and watchers hear of it."""
    actor = get_active(session, actor_id)
    title = _check_text(title, TITLE_MAX, TITLE_EMPTY)
    if len(description) > DESCRIPTION_MAX:
        raise BadInput(TEXT_TOO_LONG, length=len(description), max=DESCRIPTION_MAX)
    watchers = [w for w in dict.fromkeys(watcher_ids_) if w not in (actor.id, assignee_id)]
    if len(watchers) > MAX_WATCHERS:
        raise BadInput(TOO_MANY_WATCHERS, max=MAX_WATCHERS)
    status, column = ((TaskStatus.IN_PROGRESS, BoardColumn.IN_PROGRESS) if assignee_id == actor.id
                      else (TaskStatus.OPEN, BoardColumn.TODO))
    at = to_db(now)
    row = {"title": title, "description": description.strip(), "creator_id": actor.id, "assignee_id": assignee_id,
           "due_at": to_db(due_at) if due_at else None, "snoozed_until": None, "status": status.value,
           "column": column.value, "created_at": at, "updated_at": at, "closed_at": None}
    # The rows of a new task go in as plain INSERTs (no unit-of-work flushes): the task, its watchers,
    # its history's first event, its notices, its pings; the objects are then what the session holds.
    # (The session still writes what the caller added first: it autoflushes before a Core statement too.)
    task = _inserted(session, Task, row)
    if watchers:
        session.execute(_INSERT_WATCHERS, [{"task_id": task.id, "person_id": w} for w in watchers])
    data = {"title": title, "assignee_id": assignee_id, "due_at": due_at.isoformat() if due_at else None,
            "watchers": watchers}
    event = _inserted(session, TaskEvent, {"task_id": task.id, "actor_id": actor.id, "kind": "created", "data": data,
                                           "at": at})
    told = {task.creator_id, task.assignee_id, *watchers} - {actor.id}
    enqueue_many(session, _event_notices(task.id, event.id, told), now=now, fresh=True)  # no card copies yet
    reminders.reschedule(session, task, now, new=True)
    return Outcome(task, [event])


_INSERT_RETURNING_ID = {model: insert(model.__table__).returning(model.__table__.c.id) for model in (Task, TaskEvent)}
_INSERT_WATCHERS = insert(TaskWatcher.__table__)


def _inserted(session: Session, model, row: dict):
    """One row inserted with a plain INSERT … RETURNING id, held by the session as if loaded."""
    made = model(id=session.execute(_INSERT_RETURNING_ID[model], row).scalar_one(), **row)
    make_transient_to_detached(made)
    session.add(made)
    return made


def assign(session: Session, actor_id: int, task_id: int, assignee_id: int, *, now: datetime) -> Outcome:
    """Give the task to someone else; they and the others hear of it."""
    actor = get_active(session, actor_id)
    task = managed_task(session, actor, task_id, WHAT_ASSIGN)
    _open_only(task)
    get_active(session, assignee_id)
    previous = task.assignee_id
    task.assignee_id = assignee_id
    _drop_watcher(session, task.id, assignee_id)
    event = record(session, task, actor, "assigned", now, assignee_id=assignee_id, previous_id=previous)
    reminders.reschedule(session, task, now)
    return Outcome(task, [event])


def take(session: Session, actor_id: int, task_id: int, *, now: datetime) -> Outcome:
    """"Take it": an unassigned task becomes mine and in progress."""
    actor = get_active(session, actor_id)
    task = visible_task(session, actor, task_id)
    _open_only(task)
    if task.assignee_id and task.assignee_id != actor.id:
        raise Forbidden(ALREADY_ASSIGNED, id=task.id, name=session.get(Person, task.assignee_id).name)
    task.assignee_id = actor.id
    task.status, task.column = TaskStatus.IN_PROGRESS, BoardColumn.IN_PROGRESS
    _drop_watcher(session, task.id, actor.id)
    event = record(session, task, actor, "taken", now)
    reminders.reschedule(session, task, now)
    return Outcome(task, [event])


def set_due(session: Session, actor_id: int, task_id: int, due_at: datetime, *, now: datetime) -> Outcome:
    """Change the deadline; reminders follow it."""
    actor = get_active(session, actor_id)
    task = managed_task(session, actor, task_id, WHAT_DUE)
    _open_only(task)
    previous = from_db(task.due_at)
    task.due_at, task.snoozed_until = to_db(due_at), None
    event = record(session, task, actor, "due_set", now, due_at=due_at.isoformat(),
                   previous_due=previous.isoformat() if previous else None)
    reminders.reschedule(session, task, now)
    return Outcome(task, [event])


def snooze(session: Session, actor_id: int, task_id: int, until: datetime, *, now: datetime) -> Outcome:
    """Move the next ping to `until`; the deadline stays."""
    actor = get_active(session, actor_id)
    task = managed_task(session, actor, task_id, WHAT_SNOOZE)
    _open_only(task)
    if task.due_at is None:
        raise BadInput(NO_DUE, id=task.id)
    task.snoozed_until = to_db(until)
    event = record(session, task, actor, "snoozed", now, until=until.isoformat())
    reminders.reschedule(session, task, now)
    return Outcome(task, [event])


def comment(session: Session, actor_id: int, task_id: int, body: str, *, now: datetime) -> Outcome:
    """Add a comment; everyone else on the task hears it."""
    actor = get_active(session, actor_id)
    task = visible_task(session, actor, task_id)
    body = _check_text(body, COMMENT_MAX, TEXT_EMPTY)
    session.add(Comment(task_id=task.id, author_id=actor.id, body=body, created_at=to_db(now)))
    event = record(session, task, actor, "commented", now, body=body[:500])
    return Outcome(task, [event])


def attach_link(session: Session, actor_id: int, task_id: int, url: str, *, now: datetime) -> Outcome:
    """Attach a web link."""
    actor = get_active(session, actor_id)
    task = visible_task(session, actor, task_id)
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > URL_MAX or any(c.isspace() for c in url):
        raise BadInput(BAD_URL)
    session.add(Attachment(task_id=task.id, author_id=actor.id, kind="link", url=url, created_at=to_db(now)))
    event = record(session, task, actor, "attached", now, type="link", url=url)
    return Outcome(task, [event])


def attach_file(
    session: Session, actor_id: int, task_id: int, *, platform: str, file_id: str, name: str | None,
    mime_type: str | None, size: int | None, now: datetime,
) -> Outcome:
    """Attach a file the platform already holds (we keep its file id)."""
    actor = get_active(session, actor_id)
    task = visible_task(session, actor, task_id)
    session.add(Attachment(
        task_id=task.id, author_id=actor.id, kind="file", platform=platform, file_id=file_id[:300],
        name=(name or "")[:300] or None, mime_type=(mime_type or "")[:120] or None, size=size, created_at=to_db(now),
    ))
    event = record(session, task, actor, "attached", now, type="file", name=name or file_id[:60])
    return Outcome(task, [event])


def link(session: Session, actor_id: int, task_id: int, other_id: int, *, now: datetime) -> Outcome:
    """Relate two tasks the actor can see; linking twice is harmless."""
    actor = get_active(session, actor_id)
    task = visible_task(session, actor, task_id)
    other = visible_task(session, actor, other_id)
    if task.id == other.id:
        raise BadInput(SELF_LINK)
    low, high = sorted((task.id, other.id))
    if session.exec(select(TaskLink.id).where(TaskLink.task_id == low, TaskLink.other_id == high)).first():
        return Outcome(task, [])
    session.add(TaskLink(task_id=low, other_id=high, created_by=actor.id, created_at=to_db(now)))
    return Outcome(task, [record(session, task, actor, "linked", now, other_id=other.id),
                          record(session, other, actor, "linked", now, other_id=task.id)])


def watch(session: Session, actor_id: int, task_id: int, *, now: datetime) -> Outcome:
    """Follow a task's changes."""
    actor = get_active(session, actor_id)
    task = visible_task(session, actor, task_id)
    if actor.id not in participants(session, task):
        session.add(TaskWatcher(task_id=task.id, person_id=actor.id))
        session.flush()
    return Outcome(task, [record(session, task, actor, "watched", now)])


def close(session: Session, actor_id: int, task_id: int, *, now: datetime) -> Outcome:
    """Mark done; pending reminders are cancelled, nothing else is lost."""
    actor = get_active(session, actor_id)
    task = managed_task(session, actor, task_id, WHAT_CLOSE)
    if task.status in CLOSED_STATUSES:
        raise BadInput(ALREADY_DONE, id=task.id)
    request = _request_of(session, task)
    if request is not None and request.state in REQUEST_OPEN_STATES:
        raise Forbidden(REQUEST_ON_ITS_WAY, id=task.id)
    task.status, task.column, task.closed_at = TaskStatus.DONE, BoardColumn.DONE, to_db(now)
    event = record(session, task, actor, "closed", now)
    reminders.reschedule(session, task, now)
    return Outcome(task, [event])


def reopen(session: Session, actor_id: int, task_id: int, *, now: datetime) -> Outcome:
    """Back to work, with every comment, file and link it had."""
    actor = get_active(session, actor_id)
    task = managed_task(session, actor, task_id, WHAT_REOPEN)
    if task.status not in CLOSED_STATUSES:
        raise BadInput(NOT_DONE, id=task.id)
    request = _request_of(session, task)
    if request is not None and request.state not in REQUEST_OPEN_STATES:
        raise Forbidden(REQUEST_FINISHED, id=task.id)  # its task would be open while the request is over
    in_progress = task.assignee_id is not None
    task.status = TaskStatus.IN_PROGRESS if in_progress else TaskStatus.OPEN
    task.column = BoardColumn.IN_PROGRESS if in_progress else BoardColumn.TODO
    task.closed_at = None
    event = record(session, task, actor, "reopened", now)
    reminders.reschedule(session, task, now)
    return Outcome(task, [event])


def _request_of(session: Session, task: Task) -> FormRequest | None:
    """The form request the task carries, if any (a request's task moves with its route)."""
    return session.exec(select(FormRequest).where(FormRequest.task_id == task.id)).first()


def _open_only(task: Task) -> None:
    if task.status in CLOSED_STATUSES:
        raise BadInput(CLOSED_TASK, id=task.id)


def _drop_watcher(session: Session, task_id: int, person_id: int) -> None:
    row = session.get(TaskWatcher, (task_id, person_id))
    if row is not None:
        session.delete(row)
        session.flush()


def overdue_since(task: Task, now: datetime) -> timedelta | None:
    """How long an open task is past its deadline, if it is."""
    due = from_db(task.due_at)
    if due is None or task.status in CLOSED_STATUSES or due > now:
        return None
    return now - due
