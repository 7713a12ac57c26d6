"""Requests in the store: the form version each one walks, lookups by task, and a step with its people.

A decision reads its request once: `load` brings the task, its request, the
step it waits on and the author in one query, `people_of` that step's people
with their names in one more; guards, the engine and the card then work from
those objects (`StepPeople`) instead of asking the database again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from core.domain.clock import to_db
from core.domain.models import FormRequest, FormVersion, Person, RequestStep, StepAssignee, Task
from core.forms.loader import parse_form
from core.forms.schema import Form

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
