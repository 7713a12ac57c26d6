"""Requests in the store: the form version each one walks, and lookups by task."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlmodel import Session, select

from core.domain.clock import to_db
from core.domain.models import FormRequest, FormVersion, RequestStep
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
