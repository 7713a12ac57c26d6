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
from core.forms.schema import Form, Label, Step
from core.infra.outbox import enqueue
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


def labels(label: Label | None) -> dict[str, str] | None:
    """A label as stored in history: every language, so each reader sees their own."""
    return dict(label.texts) if label else None


def event(walk: Walk, kind: str, **data) -> TaskEvent:
    """Record a move; participants other than the actor hear of it."""
    if walk.actor is not None:
        return record(walk.session, walk.task, walk.actor, kind, walk.now, **data)
    found = record(walk.session, walk.task, walk.author, kind, walk.now, system=True, **data)
    enqueue(walk.session, key=f"event:{found.id}:{walk.author.id}", recipient_id=walk.author.id,
            template="task_event", task_id=walk.task.id, now=walk.now, context={"event_id": found.id})
    return found


def step_data(step: Step | None, key: str) -> dict:
    """What history keeps of a step: its id and its label in every language."""
    return {"step": key, "step_label": labels(step.label if step else None) or {"en": key}}


def join(session: Session, task: Task, person_ids: list[int]) -> None:
    """A step's people watch the request's task: they may see it and hear of its moves."""
    present = participants(session, task)
    for person_id in person_ids:
        if person_id not in present:
            session.add(TaskWatcher(task_id=task.id, person_id=person_id))
            present.add(person_id)
    session.flush()


def ask(walk: Walk, row: RequestStep, person_ids: list[int], reason: str = "new") -> None:
    """The step's card with its buttons, to each of its people (reason: new, reminder, escalated)."""
    for person_id in person_ids:
        enqueue(walk.session, key=f"step:{row.id}:{reason}:{row.reminders}:{person_id}", recipient_id=person_id,
                template="approval_request", task_id=walk.task.id, now=walk.now,
                context={"step_id": row.id, "reason": reason})


def tell(walk: Walk, person_ids: list[int], what: str, tag: str = "", **context) -> None:
    """A request notice (completion, a bot's problem, a form's own words) to some people, once each."""
    for person_id in dict.fromkeys(person_ids):
        enqueue(walk.session, key=f"request:{walk.request.id}:{walk.request.round}:{what}:{tag}:{person_id}",
                recipient_id=person_id, template="request_update", task_id=walk.task.id, now=walk.now,
                context={"request_id": walk.request.id, "what": what, **context})


def walk_for(session: Session, request: FormRequest, actor: Person | None, now: datetime) -> Walk:
    """Everything about a request the engine needs, loaded once per move."""
    from core.forms.records import form_of  # records builds on the loader, which is heavier

    return Walk(session, request, form_of(session, request), session.get(Task, request.task_id),
                session.get(Person, request.author_id), actor, now)
