"""Work steps and rework: the step's people fill their fields (files too) and say done.

A file field of a work step may be left out of `values`: the files attached to
the request's task since the step opened fill it ("reply to the card with the
payment order, then tap Done"). On rework, a file attached since the request
came back is the new version of the form's file (the draft sent again).
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from core.domain.clock import from_db, to_db
from core.domain.models import Attachment, FormRequest, RequestStep, StepAssignee, Task
from core.forms import engine
from core.forms.decisions import RequestOutcome, apply, clean_comment
from core.forms.guards import add_decision, claim, prepare, record_decision
from core.forms.history import Walk, event
from core.forms.records import steps_of
from core.forms.schema import Form, Step
from core.forms.submission import locked_at, merge, start_fields, visible
from core.forms.values import Context, is_empty


def complete_step(session: Session, actor_id: int, task_id: int, *, now: datetime, step_id: int | None = None,
                  values: dict | None = None, comment: str | None = None, tz: str = "UTC") -> RequestOutcome:
    """Done with a work step, with the fields it fills; a rework step is resubmitted instead."""
    walk, row, assignee = prepare(session, actor_id, task_id, step_id, ("work", engine.REWORK), now)
    return complete_prepared(walk, row, assignee, values, comment, tz)


def complete_prepared(walk: Walk, row: RequestStep, assignee: StepAssignee, values: dict | None = None,
                      comment: str | None = None, tz: str = "UTC") -> RequestOutcome:
    """`complete_step` on the step `prepare` found: a caller that checked it first (Done asks
    the step's empty fields) goes on from there instead of reading the request again."""
    if row.kind == engine.REWORK:
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
    walk, row, assignee = prepare(session, actor_id, task_id, step_id, (engine.REWORK,), now)
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
    engine.close(walk, row, "done", "done")
    event(walk, "resubmitted", comment=comment)
    engine.advance(walk)
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
    if row.kind == engine.REWORK:
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
