"""Who may act on a request's current step, and the compare-and-set that makes decisions race-free.

Two approvers of an `any` step tapping at once: each first bumps the step's
version with `UPDATE … WHERE id = :id AND state = 'open'`. The database lets
one of them hold the row; the other waits, and once the first has closed the
step its update matches nothing, so it is refused: one outcome, whatever the
timing. The same person tapping twice is stopped by the unique
(step, person) constraint on decisions.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.domain.clock import to_db
from core.domain.errors import BadInput, Forbidden, NotFound
from core.domain.models import Person, RequestStep, StepAssignee, StepDecision
from core.forms.history import Walk, walk_for
from core.forms.records import current_step, request_of_task
from core.presentation.i18n import N_
from core.services.people import get_active
from core.services.tasks import visible_task

NOT_A_REQUEST = N_("#%(id)s is a plain task, not a form request.")
NOT_WAITING = N_("Request #%(id)s is not waiting for anyone any more.")
STALE = N_("That step of #%(id)s is over; the request has moved on. /show %(id)s shows where it is.")
JUST_DECIDED = N_("Someone else has just decided this step of #%(id)s. /show %(id)s shows the result.")
NOT_YOURS = N_("This step of #%(id)s waits for %(names)s, not for you.")
WRONG_ACTION = N_("That doesn't fit the current step of #%(id)s; /show %(id)s shows what it waits for.")


def prepare(session: Session, actor_id: int, task_id: int, step_id: int | None, kinds: tuple[str, ...],
            now) -> tuple[Walk, RequestStep, StepAssignee]:
    """The current step, if the actor is one of its people and the action fits it; else a refusal."""
    actor = get_active(session, actor_id)
    task = visible_task(session, actor, task_id)
    request = request_of_task(session, task.id)
    if request is None:
        raise NotFound(NOT_A_REQUEST, id=task.id)
    row = current_step(session, request)
    if step_id is not None and (row is None or row.id != step_id):
        return _decided_before(session, request, actor, step_id, now)
    if row is None:
        raise BadInput(NOT_WAITING, id=task.id)
    assignee = session.get(StepAssignee, (row.id, actor.id))
    if assignee is None or assignee.state not in ("pending", "decided"):
        raise Forbidden(NOT_YOURS, id=task.id, names=", ".join(pending_names(session, row.id)) or "—")
    if row.kind not in kinds:
        raise BadInput(WRONG_ACTION, id=task.id)
    return walk_for(session, request, actor, now), row, assignee


def _decided_before(session: Session, request, actor: Person, step_id: int, now):
    """A tap on the card of a step this person already decided: a repeat, not an error."""
    old, assignee = session.get(RequestStep, step_id), session.get(StepAssignee, (step_id, actor.id))
    if old is None or old.request_id != request.id or assignee is None or assignee.state != "decided":
        raise BadInput(STALE, id=request.task_id)
    return walk_for(session, request, actor, now), old, assignee


def pending_ids(session: Session, step_id: int) -> list[int]:
    """The people a step still waits for, by id."""
    return list(session.exec(select(StepAssignee.person_id).where(
        StepAssignee.step_id == step_id, StepAssignee.state == "pending").order_by(StepAssignee.person_id)))


def pending_names(session: Session, step_id: int) -> list[str]:
    rows = session.exec(select(Person.name).join(StepAssignee, StepAssignee.person_id == Person.id)
                        .where(StepAssignee.step_id == step_id, StepAssignee.state == "pending")
                        .order_by(Person.name))
    return list(rows)


def claim(session: Session, row: RequestStep, task_id: int, states: tuple[str, ...] = ("open",)) -> None:
    """Compare-and-set: bump the version of a step still in `states`, else refuse (someone was first)."""
    result = session.exec(update(RequestStep).where(RequestStep.id == row.id, RequestStep.state.in_(states))
                          .values(version=RequestStep.version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise BadInput(JUST_DECIDED, id=task_id)
    session.refresh(row)


def record_decision(session: Session, row: RequestStep, person_id: int | None, outcome: str,
                    comment: str | None, now) -> bool:
    """Store one decision; False when this person's decision is already there (a double tap)."""
    try:
        with session.begin_nested():
            session.add(StepDecision(step_id=row.id, person_id=person_id, outcome=outcome, comment=comment,
                                     at=to_db(now)))
    except IntegrityError:
        return False
    return True
