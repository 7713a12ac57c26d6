"""The route engine: opens the next step that applies, closes steps, ends requests.

Steps are walked in the order written; `next` and a decide step's outcomes
jump; a step whose `when` fails, or that names only people above an author
who has nobody above, is passed by. A manager-chain step opens one level at
a time, up to the top. Everything happens in the caller's transaction.
"""
from __future__ import annotations

from core.domain import workdays
from core.domain.clock import to_db
from core.domain.models import BoardColumn, Person, RequestStep, StepAssignee, TaskStatus
from core.forms import who
from core.forms.conditions import holds
from core.forms.history import Walk, ask, event, join, people, step_data
from core.forms.records import StepPeople
from core.forms.schema import AUTHOR, END, Step
from core.forms.timing import due_after
from core.services import reminders

FINAL = {"done": TaskStatus.DONE, "rejected": TaskStatus.CANCELLED, "cancelled": TaskStatus.CANCELLED}
REWORK = "rework"


def following(walk: Walk, step: Step) -> Step | None:
    """Where the route goes after a step that ran: its `next`, else the one written after it."""
    if step.next == END:
        return None
    return walk.form.step(step.next) if step.next else walk.form.after(step)


def advance(walk: Walk, after: Step | None = None, target: str | None = None) -> RequestStep | None:
    """Open the next step that applies (from `target`, or after `after`); none left: the request is done."""
    if target == END:
        step = None
    elif target:
        step = walk.form.step(target)
    else:
        step = following(walk, after) if after else walk.form.route[0]
    while step is not None:
        if holds(step.when, walk.request.values):
            row = open_step(walk, step)
            if row is not None:
                return row
        step = walk.form.after(step)
    finish(walk, "done")
    return None


def open_step(walk: Walk, step: Step, level: int = 0) -> RequestStep | None:
    """Open one step for its people; None when it names nobody above an author at the top."""
    people_ = who.resolve(walk.session, walk.author, walk.request.values, step.who, level)
    if not people_ and step.kind != "bot":
        if who.only_above(step):
            return None
        people_ = who.admins(walk.session)  # a role nobody holds: the admins must sort it out
    # Times first: reading the working days flushes, and the row should be written once, whole.
    due = to_db(due_after(walk.now, step.deadline, walk.request.timezone, workdays.load(walk.session))) \
        if step.deadline else None
    row = _new_row(walk, step.id, step.kind, step.mode, level, state="calling" if step.kind == "bot" else "open")
    row.due_at = row.next_ping_at = due
    if step.kind == "bot":
        row.next_ping_at = to_db(walk.now)  # the bot runner calls it at once
    _assign(walk, row, [] if step.kind == "bot" else people_)
    _status(walk, "in_progress" if step.kind == "work" else "awaiting")
    return row


def open_rework(walk: Walk) -> RequestStep:
    """A rejection sends the request back to its author to change and submit again."""
    walk.request.state = REWORK
    row = _new_row(walk, REWORK, REWORK, "any", 0, state="open")
    _assign(walk, row, [walk.author])
    _status(walk, "in_progress")
    return row


def _new_row(walk: Walk, key: str, kind: str, mode: str, level: int, state: str) -> RequestStep:
    """A step instance, not yet written: `_assign` writes it whole."""
    return RequestStep(request_id=walk.request.id, step_key=key, kind=kind, mode=mode, level=level,
                       round=walk.request.round, state=state, created_at=to_db(walk.now))


def _assign(walk: Walk, row: RequestStep, persons: list[Person]) -> None:
    """Write the step, make it the request's current one, give it its people and ask them; the walk
    holds it with its people, so whatever draws the request next needs no query for them."""
    walk.session.add(row)
    walk.session.flush()
    walk.request.current_step_id, walk.request.updated_at = row.id, to_db(walk.now)
    walk.session.add(walk.request)
    since, ids = to_db(walk.now), [p.id for p in persons]
    assignees = {p.id: StepAssignee(step_id=row.id, person_id=p.id, since=since) for p in persons}
    walk.session.add_all(assignees.values())
    walk.current = StepPeople(row, assignees, {p.id: p.name for p in persons})
    join(walk, ids)
    ask(walk, row, ids, fresh=True)


def _status(walk: Walk, column: str) -> None:
    working = column == "in_progress"
    walk.task.status = TaskStatus.IN_PROGRESS if working else TaskStatus.AWAITING_APPROVAL
    walk.task.column = BoardColumn.IN_PROGRESS if working else BoardColumn.AWAITING
    walk.session.add(walk.task)


def close(walk: Walk, row: RequestStep, state: str, outcome: str | None = None) -> None:
    """End a step instance; whoever it still waited for is released."""
    row.state, row.outcome, row.closed_at, row.next_ping_at = state, outcome, to_db(walk.now), None
    walk.session.add(row)
    crew = people(walk, row)
    for person_id in crew.pending():
        crew.assignees[person_id].state = "released"
        walk.session.add(crew.assignees[person_id])


def after_approval(walk: Walk, step: Step, row: RequestStep) -> None:
    """An approved (or done) step: a chain climbs one level if it can, else the route goes on."""
    if step.is_chain and who.has_level(walk.session, walk.author, row.level + 1):
        if open_step(walk, step, row.level + 1) is not None:
            return
    advance(walk, after=step)


def after_rejection(walk: Walk, step: Step) -> None:
    """A rejection ends the request, returns it to its author, or to an earlier step, as the form says."""
    if step.on_reject == END:
        finish(walk, "rejected")
    elif step.on_reject == AUTHOR:
        open_rework(walk)
        event(walk, "returned", to="author")
    else:
        walk.request.round += 1
        event(walk, "returned", **step_data(walk.form.step(step.on_reject), step.on_reject))
        advance(walk, target=step.on_reject)


def finish(walk: Walk, state: str) -> None:
    """The request ends: done, rejected or cancelled; its task closes with it."""
    from core.forms.completion import run_actions  # completion builds on the engine

    walk.request.state, walk.request.closed_at, walk.request.current_step_id = state, to_db(walk.now), None
    walk.request.updated_at = to_db(walk.now)
    walk.session.add(walk.request)
    walk.task.status, walk.task.column, walk.task.closed_at = FINAL[state], BoardColumn.DONE, to_db(walk.now)
    event(walk, f"request_{state}", form=dict(walk.form.title.texts))
    reminders.reschedule(walk.session, walk.task, walk.now)
    if state == "done":
        run_actions(walk, walk.form.on_complete)
