"""A request in the store: the form version it walks, its steps and their people, who a step
names, and one move along its route (`Walk`) with the history and notices it causes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from core.domain.clock import to_db
from core.domain.models import (
    FormRequest, FormVersion, Person, RequestStep, StepAssignee, Task, TaskEvent, TaskWatcher,
)
from core.forms.catalog import parse_form
from core.forms.schema import Form, Label, Step, Who
from core.infra.outbox import enqueue_many, notice
from core.services.people import by_handle, manager_chain
from core.services.tasks import participants, record


# Requests in the store: the form version each one walks, lookups by task, and a step with its people.
#
# A decision reads its request once: `load` brings the task, its request, the
# step it waits on and the author in one query, `people_of` that step's people
# with their names in one more; guards, the engine and the card then work from
# those objects (`StepPeople`) instead of asking the database again.

OPEN_STATES = ("open", "calling", "waiting")  # a step in one of these still waits for someone


def remember_version(session: Session, form: Form, now: datetime) -> None:
    """Keep the form's text, so its requests walk this route even after the file changes."""
    if session.get(FormVersion, form.version) is None:
        session.add(FormVersion(id=form.version, form_id=form.id, source=form.source, created_at=to_db(now)))
        session.flush()


@lru_cache(maxsize=256)
def _parsed(version_id: str, form_id: str, source: str) -> Form:
    form, _problems = parse_form(source, f"{form_id}.yaml")
    return form


_BY_VERSION: dict[str, Form] = {}


def form_of(session: Session, request: FormRequest) -> Form:
    """The form a request was started with: parsed once per version, and read from the store once
    per process, since a version's id is the SHA-256 of its text: what it names never changes."""
    form = _BY_VERSION.get(request.version_id)
    if form is None:
        version = session.get(FormVersion, request.version_id)
        if len(_BY_VERSION) >= 256:
            _BY_VERSION.clear()
        form = _BY_VERSION[version.id] = _parsed(version.id, version.form_id, version.source)
    return form


def request_of_task(session: Session, task_id: int) -> FormRequest | None:
    return session.exec(select(FormRequest).where(FormRequest.task_id == task_id)).first()


def current_step(session: Session, request: FormRequest) -> RequestStep | None:
    """The step the request waits on, if it is still open."""
    row = session.get(RequestStep, request.current_step_id) if request.current_step_id else None
    return row if row is not None and row.state in OPEN_STATES else None


def steps_of(session: Session, request_id: int) -> list[RequestStep]:
    """Every step instance of a request, in the order they opened."""
    return list(session.exec(select(RequestStep).where(RequestStep.request_id == request_id).order_by(RequestStep.id)))


@dataclass
class StepPeople:
    """A step instance with everyone it names (by person id), as read once in this unit of work."""

    row: RequestStep
    assignees: dict[int, StepAssignee]
    names: dict[int, str]

    def pending(self) -> list[int]:
        """The people it still waits for, by id."""
        return sorted(p for p, a in self.assignees.items() if a.state == "pending")

    def pending_names(self) -> list[str]:
        """Their names, alphabetically (sorted here, so every database orders them alike)."""
        return sorted(self.names[p] for p in self.pending())


def people_of(session: Session, row: RequestStep) -> StepPeople:
    """A step's people and their names, in one query (fresh: rows already in the session are re-read)."""
    found = session.exec(select(StepAssignee, Person.name).join(Person, Person.id == StepAssignee.person_id)
                         .where(StepAssignee.step_id == row.id)
                         .execution_options(populate_existing=True)).all()
    return StepPeople(row, {a.person_id: a for a, _ in found}, {a.person_id: name for a, name in found})


def load(session: Session, task_id: int) -> tuple[Task, FormRequest | None, RequestStep | None, Person | None] | None:
    """A task with its request, the step instance the request points at, and its author: one query."""
    author = aliased(Person)
    return session.exec(select(Task, FormRequest, RequestStep, author)
                        .outerjoin(FormRequest, FormRequest.task_id == Task.id)
                        .outerjoin(RequestStep, RequestStep.id == FormRequest.current_step_id)
                        .outerjoin(author, author.id == FormRequest.author_id)
                        .where(Task.id == task_id)).first()


def current_people(session: Session, request: FormRequest, known: StepPeople | None = None) -> StepPeople | None:
    """The step the request waits on, with its people: `known` when it is that step (no query), else read."""
    if request.current_step_id is None:
        return None
    if known is None or known.row.id != request.current_step_id:
        row = current_step(session, request)
        return people_of(session, row) if row is not None else None
    return known if known.row.state in OPEN_STATES else None


# Who acts on a step: named people, roles, the author, their manager, a person field, the chain.

# Who-entries that mean "above the author": when the author has nobody above,
# such a step has nobody to wait for and is passed by.
ABOVE = ("manager", "chain")


def resolve(session: Session, author: Person, values: dict, who: tuple[Who, ...], level: int = 0) -> list[Person]:
    """The active people a who-list names, each once, in the order written."""
    found: dict[int, Person] = {}
    for entry in who:
        for person in _one(session, author, values, entry, level):
            if person.active:
                found.setdefault(person.id, person)
    return list(found.values())


def _one(session: Session, author: Person, values: dict, entry: Who, level: int) -> list[Person]:
    if entry.kind == "author":
        return [author]
    if entry.kind == "manager":
        return manager_chain(session, author)[:1]
    if entry.kind == "chain":
        chain = manager_chain(session, author)
        return chain[level:level + 1]
    if entry.kind == "admins":
        return admins(session)
    if entry.kind == "role":
        return with_role(session, entry.arg)
    if entry.kind == "person":
        return [p for p in [member(session, entry.arg)] if p]
    handles = values.get(entry.arg) or []
    return [p for p in (member(session, h) for h in ([handles] if isinstance(handles, str) else handles)) if p]


def member(session: Session, handle: str) -> Person | None:
    """An active member by @handle, read once per unit of work: a request's person fields are
    resolved for its steps, shown on its card and in each language of its notices, all in one."""
    known = session.info.setdefault("forms.members", {})
    key = handle.lower().rstrip(".-")
    if key not in known:
        known[key] = by_handle(session, handle)
    return known[key]


def with_role(session: Session, role: str) -> list[Person]:
    """Active people holding a role (roles are a JSON list; a team is small enough to filter here)."""
    people = session.exec(select(Person).where(Person.active == True).order_by(Person.id)).all()  # noqa: E712
    return [p for p in people if role in (p.roles or [])]


def admins(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.active == True, Person.is_admin == True)  # noqa: E712
                             .order_by(Person.id)))


def only_above(step: Step) -> bool:
    """True when the step names only people above the author (manager, chain)."""
    return bool(step.who) and all(w.kind in ABOVE for w in step.who)


def has_level(session: Session, author: Person, level: int) -> bool:
    """Is there a manager `level` steps above the author's manager?"""
    return len(manager_chain(session, author)) > level


# A request's moves as task history, and the notices they cause.
#
# Every move is a TaskEvent on the request's task (so closing and reopening
# lose nothing), and everyone on the task hears of it through the usual
# `task_event` notice. Moves the system makes (a deadline escalation, a bot's
# answer) are recorded in the author's name with `system` set, and the author
# hears them too.

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
