"""Acting on a request: starting one, deciding its steps, doing a work step's work,
resubmitting after rework, withdrawing it. Each use case runs in the caller's unit of work.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.domain.clock import from_db, to_db
from core.domain.errors import BadInput, Forbidden
from core.domain.models import CLOSED_STATUSES, Attachment, FormRequest, Person, RequestStep, StepAssignee, Task
from core.forms.readers import Names
from core.forms.records import (
    Walk, event, has_level, labels, people, remember_version, request_of_task, resolve, step_data, steps_of, walk_for,
)
from core.forms.request_cards import show
from core.forms.route import (
    NOT_A_REQUEST, NOT_WAITING, REWORK, add_decision, advance, after_approval, after_rejection, claim, close, finish,
    open_step, prepare, record_decision, run_actions,
)
from core.forms.schema import UP, Form, Step
from core.forms.values import START, Context, check_submission, is_empty, locked_at, merge, start_fields, visible
from core.presentation.i18n import N_
from core.services.people import get_active
from core.services.tasks import TITLE_MAX, create_task, managed_task, visible_task


# Deciding the current step: approve, reject, acknowledge, complete work, choose an outcome.
#
# Each use case takes the store session, the actor, the request's task id,
# the step instance the button was made for (None when typed), plain values and
# `now`. A stranger, a stale button or a step someone else just closed gets a
# refusal; a repeated tap by the same person changes nothing (`changed=False`).

REASON_NEEDED = N_("Say why you reject it, like: /reject %(id)s the amount is over budget")
COMMENT_TOO_LONG = N_("That comment is %(length)s characters long; the limit is %(max)s.")
UNKNOWN_OUTCOME = N_("Choose one of: %(choices)s.")
TOP_OF_CHAIN = N_("There is nobody above to escalate #%(id)s to.")
COMMENT_MAX = 2000


@dataclass
class RequestOutcome:
    """What a request use case did: the request, its task, the step acted on."""

    request: FormRequest
    task: Task
    step: RequestStep | None = None
    changed: bool = True  # False: the same tap again, nothing happened
    walk: Walk | None = None  # what the move read and changed: the answer's card is drawn from it


def approve(session: Session, actor_id: int, task_id: int, *, now: datetime, step_id: int | None = None,
            comment: str | None = None) -> RequestOutcome:
    """Approve the current approval step (or a bot step an admin took over)."""
    return _decide(session, actor_id, task_id, step_id, ("approve", "bot"), "approve", comment, now)


def reject(session: Session, actor_id: int, task_id: int, reason: str, *, now: datetime,
           step_id: int | None = None) -> RequestOutcome:
    """Reject with a reason: the route ends, or returns for rework, as the form says."""
    if not (reason or "").strip():
        raise BadInput(REASON_NEEDED, id=task_id)
    return _decide(session, actor_id, task_id, step_id, ("approve", "bot"), "reject", reason, now)


def acknowledge(session: Session, actor_id: int, task_id: int, *, now: datetime, step_id: int | None = None,
                comment: str | None = None) -> RequestOutcome:
    """"I have read it" on an acknowledge step."""
    return _decide(session, actor_id, task_id, step_id, ("acknowledge",), "ack", comment, now)


def choose(session: Session, actor_id: int, task_id: int, outcome: str, *, now: datetime,
           step_id: int | None = None, comment: str | None = None) -> RequestOutcome:
    """Pick one of a decide step's outcomes (by id, label, or number from 1)."""
    return _decide(session, actor_id, task_id, step_id, ("decide", "bot"), outcome, comment, now)


def _decide(session, actor_id, task_id, step_id, kinds, outcome, comment, now) -> RequestOutcome:
    walk, row, assignee = prepare(session, actor_id, task_id, step_id, kinds, now)
    if assignee.state == "decided":
        return RequestOutcome(walk.request, walk.task, row, changed=False, walk=walk)
    step = walk.form.step(row.step_key)
    if row.kind == "decide" or (row.kind == "bot" and outcome not in ("approve", "reject")):
        outcome = _outcome(step, outcome, task_id)
    comment = clean_comment(comment)
    chosen = step.outcome(outcome) if step else None
    if chosen is not None and chosen.next == UP and not can_climb(walk, row):
        raise BadInput(TOP_OF_CHAIN, id=task_id)
    claim(walk, row, task_id)
    if not record_decision(walk, row, outcome, comment):
        return RequestOutcome(walk.request, walk.task, row, changed=False, walk=walk)
    apply(walk, step, row, outcome, comment)
    return RequestOutcome(walk.request, walk.task, row, walk=walk)


def apply(walk: Walk, step: Step, row: RequestStep, outcome: str, comment: str | None) -> None:
    """A recorded decision moves the route: close the step when it is decided, then go on."""
    chosen = step.outcome(outcome) if step else None
    event(walk, "decided", **step_data(step, row.step_key), outcome=outcome, comment=comment,
          outcome_label=labels(chosen.label) if chosen else None)
    if chosen is not None:  # a named outcome, even one called "reject", goes where the form says
        _go(walk, step, row, chosen)
    elif outcome == "reject":
        close(walk, row, "rejected", outcome)
        after_rejection(walk, step)
    elif row.mode == "any" or not people(walk, row).pending():
        close(walk, row, "approved" if outcome == "approve" else "done", outcome)
        after_approval(walk, step, row)


def _go(walk: Walk, step: Step, row: RequestStep, chosen) -> None:
    """A chosen outcome: up the chain, to the end, to a named step, or on."""
    if chosen.next == UP:
        close(walk, row, "escalated", chosen.id)
        open_step(walk, step, row.level + 1)
        return
    close(walk, row, "done", chosen.id)
    if chosen.next:
        advance(walk, target=chosen.next)
    else:
        advance(walk, after=step)


def _outcome(step: Step, wanted: str, task_id: int) -> str:
    """An outcome by id or by its label in any language; up the chain only where there is someone."""
    text = (wanted or "").strip().casefold()
    if text.isdigit() and 0 < int(text) <= len(step.outcomes):
        return step.outcomes[int(text) - 1].id  # buttons carry the outcome's number
    for outcome in step.outcomes:
        if text == outcome.id or any(text == label.casefold() for _lang, label in outcome.label.texts):
            return outcome.id
    raise BadInput(UNKNOWN_OUTCOME, choices=Names.of(step.outcomes))


def clean_comment(comment: str | None) -> str | None:
    """A decision's comment, trimmed; None when empty; refused when too long."""
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise BadInput(COMMENT_TOO_LONG, length=len(text), max=COMMENT_MAX)
    return text or None


def can_climb(walk: Walk, row: RequestStep) -> bool:
    """Is there a manager above this chain step's current level?"""
    return has_level(walk.session, walk.author, row.level + 1)


# Work steps and rework: the step's people fill their fields (files too) and say done.
#
# A file field of a work step may be left out of `values`: the files attached to
# the request's task since the step opened fill it ("reply to the card with the
# payment order, then tap Done"). On rework, a file attached since the request
# came back is the new version of the form's file (the draft sent again).

def complete_step(session: Session, actor_id: int, task_id: int, *, now: datetime, step_id: int | None = None,
                  values: dict | None = None, comment: str | None = None, tz: str = "UTC") -> RequestOutcome:
    """Done with a work step, with the fields it fills; a rework step is resubmitted instead."""
    walk, row, assignee = prepare(session, actor_id, task_id, step_id, ("work", REWORK), now)
    return complete_prepared(walk, row, assignee, values, comment, tz)


def complete_prepared(walk: Walk, row: RequestStep, assignee: StepAssignee, values: dict | None = None,
                      comment: str | None = None, tz: str = "UTC") -> RequestOutcome:
    """`complete_step` on the step `prepare` found: a caller that checked it first (Done asks
    the step's empty fields) goes on from there instead of reading the request again."""
    if row.kind == REWORK:
        return _resubmit(walk, row, assignee, values or {}, comment, tz)
    if assignee.state == "decided":
        return RequestOutcome(walk.request, walk.task, row, changed=False, walk=walk)
    session, step = walk.session, walk.form.step(row.step_key)
    changes = {**_files_since(session, walk.form, step, walk.request.values, walk.task, row.created_at),
               **(values or {})}
    ctx = Context(session, walk.actor.id, walk.now, tz)
    updated = merge(ctx, walk.form, walk.request.values, changes, stage=walk.form.index(step.id),
                    allowed=fills(walk.form, step))
    comment = clean_comment(comment)
    claim(walk, row, walk.task.id)
    if not record_decision(walk, row, "done", comment):
        return RequestOutcome(walk.request, walk.task, row, changed=False, walk=walk)
    walk.request.values = store_files(session, walk.task, walk.actor.id, walk.form, updated, walk.now)
    session.add(walk.request)
    apply(walk, step, row, "done", comment)
    return RequestOutcome(walk.request, walk.task, row, walk=walk)


def resubmit(session: Session, actor_id: int, task_id: int, values: dict, *, now: datetime,
             step_id: int | None = None, comment: str | None = None, tz: str = "UTC") -> RequestOutcome:
    """The author sends a returned request again, changed: the route starts over."""
    walk, row, assignee = prepare(session, actor_id, task_id, step_id, (REWORK,), now)
    return _resubmit(walk, row, assignee, values, comment, tz)


def _resubmit(walk: Walk, row: RequestStep, assignee: StepAssignee, values: dict, comment: str | None,
              tz: str) -> RequestOutcome:
    """`resubmit` on the rework step `prepare` found."""
    if assignee.state == "decided":
        return RequestOutcome(walk.request, walk.task, row, changed=False, walk=walk)
    session = walk.session
    reached = reached_stage(session, walk.form, walk.request)
    changes = {**rework_files(session, walk.form, walk.request.values, walk.task, row.created_at, reached), **values}
    ctx = Context(session, walk.actor.id, walk.now, tz)
    updated = merge(ctx, walk.form, walk.request.values, changes, stage=reached)
    comment = clean_comment(comment)
    claim(walk, row, walk.task.id)
    add_decision(walk, row, "done", comment)  # the author's row is released with the step, not marked decided
    walk.request.values = store_files(session, walk.task, walk.actor.id, walk.form, updated, walk.now)
    walk.request.state, walk.request.round = "active", walk.request.round + 1
    session.add(walk.request)
    close(walk, row, "done", "done")
    event(walk, "resubmitted", comment=comment)
    advance(walk)
    return RequestOutcome(walk.request, walk.task, row, walk=walk)


def fills(form: Form, step: Step) -> set[str]:
    """The fields a work step's people may fill: those it names, and those required from it."""
    return set(step.fields) | {f.id for f in form.fields if f.required_from == step.id}


def reached_stage(session: Session, form: Form, request: FormRequest) -> int:
    """How far the route has ever got (the furthest step's index): what is locked from there stays locked."""
    return max([form.index(r.step_key) for r in steps_of(session, request.id)] or [-1])


def step_values(session: Session, form: Form, row: RequestStep, request: FormRequest, task: Task) -> dict:
    """The request's values as the people of a work or rework step start from them: with the files
    attached to the task since the step opened where they go."""
    if row.kind == REWORK:
        files = rework_files(session, form, request.values, task, row.created_at,
                             reached_stage(session, form, request))
    else:
        step = form.step(row.step_key)
        files = _files_since(session, form, step, request.values, task, row.created_at) if step else {}
    return {**request.values, **files}


def _files_since(session: Session, form: Form, step: Step, current: dict, task: Task, since) -> dict:
    """Files attached to the task since the step opened (and not some field's already), for its first
    empty file field."""
    empty = [f for f in form.fields if f.type == "file" and f.id in fills(form, step) and is_empty(current.get(f.id))]
    if not empty:
        return {}
    fresh = _fresh_files(session, form, current, task, since)
    return {empty[0].id: fresh} if fresh else {}


def rework_files(session: Session, form: Form, current: dict, task: Task, since, stage: int) -> dict:
    """Files attached to the task since the request came back to its author (and not some field's already):
    the new version of the form's first file field still open to change (an empty one first)."""
    fields = [f for f in start_fields(form)
              if f.type == "file" and visible(f, current) and not locked_at(form, f, stage)]
    if not fields:
        return {}
    fresh = _fresh_files(session, form, current, task, since)
    target = next((f for f in fields if is_empty(current.get(f.id))), fields[0])
    return {target.id: fresh} if fresh else {}


def _fresh_files(session: Session, form: Form, current: dict, task: Task, since) -> list[dict]:
    rows = session.exec(select(Attachment).where(Attachment.task_id == task.id, Attachment.kind == "file")
                        .order_by(Attachment.id)).all()
    used = {item.get("attachment_id") for f in form.fields if f.type == "file" for item in current.get(f.id) or []}
    return [_ref(a) for a in rows if from_db(a.created_at) >= from_db(since) and a.id not in used]


def _ref(attachment: Attachment) -> dict:
    found = {"file_id": attachment.file_id, "platform": attachment.platform, "name": attachment.name,
             "mime_type": attachment.mime_type, "size": attachment.size, "attachment_id": attachment.id}
    return {k: v for k, v in found.items() if v is not None}


def store_files(session: Session, task: Task, actor_id: int, form: Form, values: dict, now: datetime) -> dict:
    """Files in the values become the task's attachments (once), so the task keeps them."""
    stored = dict(values)
    for field in form.fields:
        if field.type != "file" or is_empty(values.get(field.id)):
            continue
        items = []
        for item in values[field.id]:
            if "attachment_id" not in item:
                row = Attachment(task_id=task.id, author_id=actor_id, kind="file", platform=item.get("platform"),
                                 file_id=item["file_id"][:300], name=(item.get("name") or "")[:300] or None,
                                 mime_type=item.get("mime_type"), size=item.get("size"), created_at=to_db(now))
                session.add(row)
                session.flush()
                item = {**item, "attachment_id": row.id}
            items.append(item)
        stored[field.id] = items
    return stored


# Starting a request: from a filled form (a new task), or on a task that already exists.
#
# Either way the task becomes the request's home: comments, files, links and
# history stay on it, and it sits in "awaiting approval" while the route runs.

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
    return person.id in {p.id for p in resolve(session, person, {}, form.starters)}


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
    if request.state not in ("active", REWORK):
        raise BadInput(NOT_WAITING, id=task.id)
    walk = walk_for(session, request, actor, now)
    if request.current_step_id:
        close(walk, session.get(RequestStep, request.current_step_id), "superseded")
    finish(walk, "cancelled")
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
    advance(walk)
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
