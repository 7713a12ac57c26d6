"""Template contexts: what a reader sees of a task, in their zone and language."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

from babel.dates import get_month_names
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, func, select

from core.domain.clock import from_db, zone
from core.presentation.i18n import N_, gettext_for
from core.presentation.messages import Button
from core.services import commands as c
from core.domain.models import (
    CLOSED_STATUSES, Attachment, Comment, FormRequest, Person, Task, TaskEvent, TaskLink, TaskWatcher,
)
from core.services.tasks import can_manage

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
    """A moment in the reader's zone and language, like '29 Nov, 15:00' (CLDR's "d MMM, HH:mm")."""
    if moment is None:
        return None
    local = from_db(moment).astimezone(zone(reader.tz))
    # What babel's format_datetime(…, "d MMM, HH:mm") writes, without parsing the pattern and the
    # locale at each call: every card, list line and digest shows a few of these.
    return f"{local.day} {_months(reader.lang)[local.month]}, {local:%H:%M}"


@lru_cache(maxsize=None)
def _months(lang: str) -> dict[int, str]:
    """CLDR's abbreviated month names (format context) for a language: "MMM"."""
    return dict(get_month_names("abbreviated", context="format", locale=lang))


def name_of(session: Session, person_id: int | None) -> str | None:
    """A person's display name (from the page being rendered when it holds them)."""
    if not person_id:
        return None
    loaded = session.info.get("page")
    person = loaded.people.get(person_id) if loaded is not None else None
    person = person or session.get(Person, person_id)
    return person.name if person else None


@dataclass
class Facts:
    """What a card counts and lists beyond the task's own row."""

    comments: int = 0
    files: int = 0
    links: int = 0
    request: bool = False  # the task carries a form request
    watchers: list[int] = field(default_factory=list)


def _counted(model, *where):
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def load_facts(session: Session, task_ids: Iterable[int]) -> dict[int, Facts]:
    """Counts, watchers and whether each is a request, for many tasks in one query
    (a row per watcher, the counts repeated on each)."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    stmt = (
        select(Task.id, _counted(Comment, Comment.task_id == Task.id),
               _counted(Attachment, Attachment.task_id == Task.id),
               _counted(TaskLink, (TaskLink.task_id == Task.id) | (TaskLink.other_id == Task.id)),
               select(FormRequest.id).where(FormRequest.task_id == Task.id).exists(), TaskWatcher.person_id)
        .outerjoin(TaskWatcher, TaskWatcher.task_id == Task.id)
        .where(col(Task.id).in_(ids)).order_by(Task.id, TaskWatcher.person_id)
    )
    found: dict[int, Facts] = {}
    for task_id, comments, files, links, request, watcher in session.exec(stmt):
        facts = found.setdefault(task_id, Facts(comments, files, links, bool(request)))
        if watcher is not None:
            facts.watchers.append(watcher)
    return found


def new_task_facts(created: TaskEvent) -> Facts:
    """A task made just now, from its first event: no comments, files, links, nor a form; its watchers."""
    return Facts(watchers=sorted(created.data.get("watchers", [])))


def load_people(session: Session, ids: Iterable[int | None]) -> dict[int, Person]:
    """Persons by id: those the session already holds without a query, the others in one."""
    found, missing = {}, []
    for person_id in set(filter(None, ids)):
        held = session.identity_map.get(identity_key(Person, person_id))
        if held is not None:
            found[person_id] = held
        else:
            missing.append(person_id)
    if missing:
        found.update({p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(missing)))})
    return found


@dataclass
class Page:
    """Facts and people for every task of a page, loaded together and held while it is rendered:
    the session holds objects weakly, so without this each name would be fetched again."""

    facts: dict[int, Facts]
    people: dict[int, Person]


@contextmanager
def page(session: Session, tasks: Sequence[Task], more_people: Iterable[int] = (),
         facts: dict[int, Facts] | None = None) -> Iterator[Page]:
    """Load a page's facts (one query; none when the caller knows them) and people (at most one more)
    for `task_view`."""
    facts = load_facts(session, [t.id for t in tasks]) if facts is None else facts
    wanted = [i for t in tasks for i in (t.creator_id, t.assignee_id)]
    wanted += [w for f in facts.values() for w in f.watchers] + list(more_people)
    loaded = Page(facts, load_people(session, wanted))
    outer = session.info.get("page")
    session.info["page"] = loaded
    try:
        yield loaded
    finally:
        session.info["page"] = outer


def task_views(session: Session, tasks: Sequence[Task], reader: Reader, now: datetime) -> list[dict]:
    """Views of many tasks (a list, a board column, a digest) in a fixed number of queries."""
    with page(session, tasks):
        return [task_view(session, t, reader, now) for t in tasks]


def board_view(session: Session, columns: dict, reader: Reader, now: datetime) -> list[dict]:
    """/board's columns with their counts and task views, the whole board loaded at once."""
    views = iter(task_views(session, [t for _count, shown in columns.values() for t in shown], reader, now))
    return [{"column": column.value, "count": count, "tasks": [next(views) for _ in shown]}
            for column, (count, shown) in columns.items()]


def facts_of(session: Session, task: Task) -> Facts:
    """The task's facts: from the page being rendered, else loaded (with its people) now."""
    loaded = session.info.get("page")
    if loaded is not None and task.id in loaded.facts:
        return loaded.facts[task.id]
    facts = load_facts(session, [task.id]).get(task.id, Facts())
    session.info.setdefault("held", []).extend(
        load_people(session, [task.creator_id, task.assignee_id, *facts.watchers]).values())
    return facts


def task_view(session: Session, task: Task, reader: Reader, now: datetime) -> dict:
    """Everything a card shows."""
    _ = gettext_for(reader.lang)
    due = from_db(task.due_at)
    facts = facts_of(session, task)
    return {
        "id": task.id, "title": task.title, "description": task.description,
        "status": task.status, "status_label": _(STATUS_LABELS.get(task.status, task.status)),
        "closed": task.status in CLOSED_STATUSES,
        "assignee": name_of(session, task.assignee_id), "creator": name_of(session, task.creator_id),
        "due": when(task.due_at, reader), "snoozed_until": when(task.snoozed_until, reader),
        "overdue": bool(due and due <= now and task.status not in CLOSED_STATUSES),
        "comments": facts.comments, "files": facts.files, "links": facts.links,
        "watchers": [name_of(session, w) for w in facts.watchers],
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
