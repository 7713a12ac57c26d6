"""Who may act on a request's current step, and the compare-and-set that makes decisions race-free.

Two approvers of an `any` step tapping at once: each first bumps the step's
version with `UPDATE … WHERE id = :id AND state = 'open'`. The database lets
one of them hold the row; the other waits, and once the first has closed the
step its update matches nothing, so it is refused: one outcome, whatever the
timing. The step's people are read before that, once; the update returns the
row, and a version moved by anyone else means they are read again under the
lock, so the same person tapping twice (or the last two of an `all` step)
sees the other's decision. The unique (step, person) constraint on decisions
stays the last word.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session

from core.domain.clock import to_db
from core.domain.errors import BadInput, Forbidden, NotFound
from core.domain.models import Person, RequestStep, StepAssignee, StepDecision
from core.forms.history import Walk
from core.forms.records import OPEN_STATES, form_of, load, people_of
from core.presentation.i18n import N_
from core.services.people import get_active
from core.services.tasks import NOT_FOUND, can_see, participants

NOT_A_REQUEST = N_("#%(id)s is a plain task, not a form request.")
NOT_WAITING = N_("Request #%(id)s is not waiting for anyone any more.")
STALE = N_("That step of #%(id)s is over; the request has moved on. /show %(id)s shows where it is.")
JUST_DECIDED = N_("Someone else has just decided this step of #%(id)s. /show %(id)s shows the result.")
NOT_YOURS = N_("This step of #%(id)s waits for %(names)s, not for you.")
WRONG_ACTION = N_("That doesn't fit the current step of #%(id)s; /show %(id)s shows what it waits for.")


def prepare(session: Session, actor_id: int, task_id: int, step_id: int | None, kinds: tuple[str, ...],
            now) -> tuple[Walk, RequestStep, StepAssignee]:
    """The current step, if the actor is one of its people and the action fits it; else a refusal."""
    walk = walk_of_task(session, get_active(session, actor_id), task_id, now)
    row = walk.current.row if walk.current else None
    if step_id is not None and (row is None or row.id != step_id):
        return _decided_before(walk, step_id)
    if row is None:
        raise BadInput(NOT_WAITING, id=task_id)
    assignee = walk.current.assignees.get(walk.actor.id)
    if assignee is None or assignee.state not in ("pending", "decided"):
        raise Forbidden(NOT_YOURS, id=task_id, names=", ".join(walk.current.pending_names()) or "—")
    if row.kind not in kinds:
        raise BadInput(WRONG_ACTION, id=task_id)
    return walk, row, assignee


def walk_of_task(session: Session, actor: Person, task_id: int, now) -> Walk:
    """The request of a task the actor may see, with its current step and that step's people: two queries."""
    found = load(session, task_id) if 0 < task_id < 2**62 else None
    if found is None:
        raise NotFound(NOT_FOUND, id=task_id)
    task, request, row, author = found
    present = None if actor.is_admin else participants(session, task)
    if not (actor.is_admin or actor.id in present or can_see(session, task, actor)):
        raise NotFound(NOT_FOUND, id=task_id)
    if request is None:
        raise NotFound(NOT_A_REQUEST, id=task_id)
    walk = Walk(session, request, form_of(session, request), task, author, actor, now, present=present)
    if row is not None and row.state in OPEN_STATES:
        walk.current = people_of(session, row)
    return walk


def _decided_before(walk: Walk, step_id: int):
    """A tap on the card of a step this person already decided: a repeat, not an error."""
    session, request = walk.session, walk.request
    old, assignee = session.get(RequestStep, step_id), session.get(StepAssignee, (step_id, walk.actor.id))
    if old is None or old.request_id != request.id or assignee is None or assignee.state != "decided":
        raise BadInput(STALE, id=request.task_id)
    return walk, old, assignee


def claim(walk: Walk, row: RequestStep, task_id: int, states: tuple[str, ...] = ("open",)) -> None:
    """Compare-and-set: bump the version of a step still in `states`, else refuse (someone was first).

    The row comes back with the update (RETURNING). Whatever changes who a step waits for bumps its
    version too (decisions, escalations, a bot handing over), so a version moved by more than our own
    bump means the people the walk read are stale: they are read again, now that we hold the row."""
    before = row.version
    claimed = walk.session.exec(
        update(RequestStep).where(RequestStep.id == row.id, RequestStep.state.in_(states))
        .values(version=RequestStep.version + 1).returning(RequestStep)
        .execution_options(synchronize_session=False, populate_existing=True)).scalars().first()
    if claimed is None:
        raise BadInput(JUST_DECIDED, id=task_id)
    if claimed.version != before + 1:
        walk.current = people_of(walk.session, row)


def record_decision(walk: Walk, row: RequestStep, outcome: str, comment: str | None) -> bool:
    """Store the actor's decision (none: a bot's) and mark them decided; False when theirs is already
    there: a double tap, seen in the people `claim` left fresh (the unique (step, person) constraint
    stays the last word)."""
    mine = walk.current.assignees.get(walk.actor.id) if (
        walk.actor is not None and walk.current is not None and walk.current.row is row) else None
    if mine is not None and mine.state == "decided":
        return False
    add_decision(walk, row, outcome, comment)
    if mine is not None:
        mine.state = "decided"
        walk.session.add(mine)
    return True


def add_decision(walk: Walk, row: RequestStep, outcome: str, comment: str | None) -> None:
    """One decision row, by the actor (none: a bot)."""
    walk.session.add(StepDecision(step_id=row.id, person_id=walk.actor.id if walk.actor else None,
                                  outcome=outcome, comment=comment, at=to_db(walk.now)))
