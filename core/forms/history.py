"""A request's moves as task history, and the notices they cause.

Every move is a TaskEvent on the request's task (so closing and reopening
lose nothing), and everyone on the task hears of it through the usual
`task_event` notice. Moves the system makes (a deadline escalation, a bot's
answer) are recorded in the author's name with `system` set, and the author
hears them too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.domain.models import FormRequest, Person, RequestStep, Task, TaskEvent, TaskWatcher
from core.forms.records import StepPeople, form_of, people_of
from core.forms.schema import Form, Label, Step
from core.infra.outbox import enqueue_many, notice
from core.services.tasks import participants, record


@dataclass
class Walk:
    """One move of a request along its route: everything the engine needs at hand."""

    session: Session
    request: FormRequest
    form: Form
    task: Task
    author: Person
    actor: Person | None  # None: the system (deadlines, bots)
    now: datetime
    # The step the request waits on, with its people, once read; the engine keeps it current as the
    # route moves, so the card drawn for the answer needs no second look.
    current: StepPeople | None = None
    present: set[int] | None = None  # the task's participants, once read (creator, assignee, watchers)


def people(walk: Walk, row: RequestStep) -> StepPeople:
    """A step's people: what the walk holds for that step, else read (and held) now."""
    if walk.current is None or walk.current.row is not row:
        walk.current = people_of(walk.session, row)
    return walk.current


def labels(label: Label | None) -> dict[str, str] | None:
    """A label as stored in history: every language, so each reader sees their own."""
    return dict(label.texts) if label else None


def event(walk: Walk, kind: str, **data) -> TaskEvent:
    """Record a move; participants other than the actor hear of it."""
    if walk.actor is not None:
        return record(walk.session, walk.task, walk.actor, kind, walk.now, **data)
    found = record(walk.session, walk.task, walk.author, kind, walk.now, system=True, **data)
    # The key names the event just written: nothing to look up.
    enqueue_many(walk.session, [notice(key=f"event:{found.id}:{walk.author.id}", recipient_id=walk.author.id,
                                       template="task_event", task_id=walk.task.id, context={"event_id": found.id})],
                 now=walk.now, fresh=True)
    return found


def step_data(step: Step | None, key: str) -> dict:
    """What history keeps of a step: its id and its label in every language."""
    return {"step": key, "step_label": labels(step.label if step else None) or {"en": key}}


def join(walk: Walk, person_ids: list[int]) -> None:
    """A step's people watch the request's task: they may see it and hear of its moves."""
    if walk.present is None:
        walk.present = participants(walk.session, walk.task)
    for person_id in person_ids:
        if person_id not in walk.present:
            walk.session.add(TaskWatcher(task_id=walk.task.id, person_id=person_id))
            walk.present.add(person_id)
    walk.session.flush()


def ask(walk: Walk, row: RequestStep, person_ids: list[int], reason: str = "new", fresh: bool = False) -> None:
    """The step's card with its buttons, to each of its people (reason: new, reminder, escalated), in one
    INSERT; `fresh`: the step was opened just now, so none of its keys can exist yet."""
    enqueue_many(walk.session, [notice(key=f"step:{row.id}:{reason}:{row.reminders}:{person_id}",
                                       recipient_id=person_id, template="approval_request", task_id=walk.task.id,
                                       context={"step_id": row.id, "reason": reason}) for person_id in person_ids],
                 now=walk.now, fresh=fresh)


def tell(walk: Walk, person_ids: list[int], what: str, tag: str = "", **context) -> None:
    """A request notice (completion, a bot's problem, a form's own words) to some people, once each."""
    enqueue_many(walk.session, [
        notice(key=f"request:{walk.request.id}:{walk.request.round}:{what}:{tag}:{person_id}",
               recipient_id=person_id, template="request_update", task_id=walk.task.id,
               context={"request_id": walk.request.id, "what": what, **context})
        for person_id in dict.fromkeys(person_ids)], now=walk.now)


def walk_for(session: Session, request: FormRequest, actor: Person | None, now: datetime) -> Walk:
    """Everything about a request the engine needs, loaded once per move."""
    return Walk(session, request, form_of(session, request), session.get(Task, request.task_id),
                session.get(Person, request.author_id), actor, now)
