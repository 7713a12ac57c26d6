"""Starting a request: from a filled form (a new task), or on a task that already exists.

Either way the task becomes the request's home: comments, files, links and
history stay on it, and it sits in "awaiting approval" while the route runs.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from core.domain.clock import to_db
from core.domain.errors import BadInput, Forbidden
from core.domain.models import CLOSED_STATUSES, FormRequest, Person, RequestStep, Task
from core.forms import engine, who
from core.forms.completion import run_actions
from core.forms.decisions import RequestOutcome
from core.forms.display import show
from core.forms.guards import NOT_A_REQUEST, NOT_WAITING
from core.forms.history import Walk, event, walk_for
from core.forms.records import remember_version, request_of_task
from core.forms.schema import Form
from core.forms.submission import START, check_submission
from core.forms.values import Context
from core.forms.work import store_files
from core.presentation.i18n import N_
from core.services.people import get_active
from core.services.tasks import TITLE_MAX, create_task, managed_task, visible_task

NOT_A_STARTER = N_("You can't start “%(form)s”; your admin can tell you who does.")
HAS_FORM = N_("Task #%(id)s already has a form.")
CLOSED = N_("Task #%(id)s is closed; reopen it first.")
NOT_CANCELLABLE = N_("Only the author or an admin can withdraw request #%(id)s.")
WHAT_ATTACH = N_("attach a form to")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def may_start(session: Session, person: Person, form: Form) -> bool:
    """Everyone may start a form without `starters`; admins may start any."""
    if not form.starters or person.is_admin:
        return True
    return person.id in {p.id for p in who.resolve(session, person, {}, form.starters)}


def start(session: Session, actor_id: int, form: Form, values: dict, *, now: datetime, tz: str = "UTC",
          lang: str = "en") -> RequestOutcome:
    """Submit a filled form: a new task walks the form's route, its first step's people are asked."""
    actor, ctx = _starter(session, actor_id, form, now, tz)
    values = check_submission(ctx, form, values, stage=START)
    task = create_task(session, actor.id, title_of(session, form, values, lang, tz, author=actor.name), now=now).task
    return _begin(session, actor, form, task, values, now, "form_started", tz)


def attach_form(session: Session, actor_id: int, form: Form, task_id: int, values: dict, *, now: datetime,
                tz: str = "UTC") -> RequestOutcome:
    """`/form payment #42`: an existing task gains the form and its route, keeping all it has."""
    actor, ctx = _starter(session, actor_id, form, now, tz)
    task = managed_task(session, actor, task_id, WHAT_ATTACH)
    if task.status in CLOSED_STATUSES:
        raise BadInput(CLOSED, id=task.id)
    if request_of_task(session, task.id) is not None:
        raise BadInput(HAS_FORM, id=task.id)
    values = check_submission(ctx, form, values, stage=START)
    return _begin(session, actor, form, task, values, now, "form_attached", tz)


def cancel(session: Session, actor_id: int, task_id: int, *, now: datetime) -> RequestOutcome:
    """The author (or an admin) withdraws a request that is still on its way."""
    actor = get_active(session, actor_id)
    task = visible_task(session, actor, task_id)
    request = request_of_task(session, task.id)
    if request is None:
        raise BadInput(NOT_A_REQUEST, id=task.id)
    if actor.id != request.author_id and not actor.is_admin:
        raise Forbidden(NOT_CANCELLABLE, id=task.id)
    if request.state not in ("active", engine.REWORK):
        raise BadInput(NOT_WAITING, id=task.id)
    walk = walk_for(session, request, actor, now)
    if request.current_step_id:
        engine.close(walk, session.get(RequestStep, request.current_step_id), "superseded")
    engine.finish(walk, "cancelled")
    return RequestOutcome(request, task, walk=walk)


def _starter(session: Session, actor_id: int, form: Form, now: datetime, tz: str) -> tuple[Person, Context]:
    actor = get_active(session, actor_id)
    if not may_start(session, actor, form):
        raise Forbidden(NOT_A_STARTER, form=form.title)
    return actor, Context(session, actor.id, now, tz)


def _begin(session: Session, actor: Person, form: Form, task: Task, values: dict, now: datetime,
           kind: str, tz: str) -> RequestOutcome:
    remember_version(session, form, now)
    request = FormRequest(task_id=task.id, form_id=form.id, version_id=form.version, author_id=actor.id,
                          timezone=tz, values=store_files(session, task, actor.id, form, values, now),
                          created_at=to_db(now), updated_at=to_db(now))
    session.add(request)
    session.flush()
    walk = Walk(session, request, form, task, actor, actor, now)
    event(walk, kind, form=dict(form.title.texts))
    run_actions(walk, form.on_start)
    engine.advance(walk)
    step = session.get(RequestStep, request.current_step_id) if request.current_step_id else None
    return RequestOutcome(request, task, step, walk=walk)


def title_of(session: Session, form: Form, values: dict, lang: str, tz: str, author: str = "") -> str:
    """The task's title: the form's `task_title` with the values (and {author}) filled in, else its title."""
    template = (form.task_title or form.title).text(lang)
    title = PLACEHOLDER.sub(lambda m: author if m.group(1) == "author" and not form.field("author")
                            else _shown(session, form, values, m.group(1), lang, tz), template)
    return " ".join(title.split())[:TITLE_MAX] or form.id


def _shown(session: Session, form: Form, values: dict, name: str, lang: str, tz: str) -> str:
    field = form.field(name)
    return show(session, field, values.get(name), lang, tz) if field and name in values else ""
