"""Template contexts: what a reader sees of a task, in their zone and language."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_datetime
from sqlmodel import Session, func, select

from core import commands as c
from core.clock import from_db, zone
from core.i18n import N_, gettext_for
from core.messages import Button
from core.models import CLOSED_STATUSES, Attachment, Comment, Person, Task, TaskEvent, TaskLink, TaskWatcher
from core.tasks import can_manage

STATUS_LABELS = {
    "open": N_("open"), "in_progress": N_("in progress"), "awaiting_approval": N_("awaiting approval"),
    "done": N_("done"), "cancelled": N_("cancelled"),
}


@dataclass(frozen=True)
class Reader:
    """Who a message is rendered for."""

    person: Person
    lang: str
    tz: str
    platform: str = "plain"


def when(moment: datetime | None, reader: Reader) -> str | None:
    """A moment in the reader's zone and language, like '29 Nov, 15:00'."""
    if moment is None:
        return None
    return format_datetime(from_db(moment), "d MMM, HH:mm", tzinfo=zone(reader.tz), locale=reader.lang)


def name_of(session: Session, person_id: int | None) -> str | None:
    """A person's display name."""
    person = session.get(Person, person_id) if person_id else None
    return person.name if person else None


def _count(session: Session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def task_view(session: Session, task: Task, reader: Reader, now: datetime) -> dict:
    """Everything a card shows."""
    _ = gettext_for(reader.lang)
    due = from_db(task.due_at)
    watchers = session.exec(select(TaskWatcher.person_id).where(TaskWatcher.task_id == task.id)).all()
    return {
        "id": task.id, "title": task.title, "description": task.description,
        "status": task.status, "status_label": _(STATUS_LABELS.get(task.status, task.status)),
        "closed": task.status in CLOSED_STATUSES,
        "assignee": name_of(session, task.assignee_id), "creator": name_of(session, task.creator_id),
        "due": when(task.due_at, reader), "snoozed_until": when(task.snoozed_until, reader),
        "overdue": bool(due and due <= now and task.status not in CLOSED_STATUSES),
        "comments": _count(session, Comment, Comment.task_id == task.id),
        "files": _count(session, Attachment, Attachment.task_id == task.id),
        "links": _count(session, TaskLink, (TaskLink.task_id == task.id) | (TaskLink.other_id == task.id)),
        "watchers": [name_of(session, w) for w in watchers],
    }


def card_buttons(task: Task, reader: Reader) -> list[list[Button]]:
    """The card's actions for this reader: only what they may do."""
    _ = gettext_for(reader.lang)
    tid, rows = task.id, []
    manage = can_manage(task, reader.person)
    if task.status in CLOSED_STATUSES:
        first = [Button(_("Reopen"), c.ReopenTask(tid))] if manage else []
        return [first + [Button(_("Comment"), c.CommentTask(tid))]]
    first = [Button(_("Done"), c.CloseTask(tid))] if manage else []
    if task.assignee_id is None:
        first.append(Button(_("Take it"), c.TakeTask(tid)))
    rows.append(first + [Button(_("Comment"), c.CommentTask(tid))])
    if manage and task.due_at is not None:
        rows.append([
            Button(_("Snooze 1 h"), c.SnoozeTask(tid, c.SNOOZE_CHOICES["1h"])),
            Button(_("Tomorrow 9:00"), c.SnoozeTask(tid, c.SNOOZE_CHOICES["tomorrow"])),
            Button(_("Monday 9:00"), c.SnoozeTask(tid, c.SNOOZE_CHOICES["monday"])),
            Button(_("Other time…"), c.SnoozeTask(tid)),
        ])
    return rows


def history_view(session: Session, task: Task, reader: Reader) -> list[dict]:
    """The task's events and comments, oldest first, for /show."""
    events = session.exec(select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)).all()
    return [event_view(session, e, reader) for e in events]


def event_view(session: Session, event: TaskEvent, reader: Reader) -> dict:
    """One history line's data."""
    data = dict(event.data)
    data["assignee"] = name_of(session, data.get("assignee_id"))
    data["previous"] = name_of(session, data.get("previous_id"))
    data["other"] = data.get("other_id")
    for key in ("due_at", "until"):
        data[key] = when(datetime.fromisoformat(data[key]), reader) if data.get(key) else None
    data["watchers"] = [name_of(session, w) for w in data.get("watchers", [])]
    return {"kind": event.kind, "actor": name_of(session, event.actor_id), "at": when(event.at, reader), "data": data}
