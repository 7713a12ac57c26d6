"""The route: who may act on a request's current step (and the compare-and-set that makes
decisions race-free), opening and closing steps, and ending a request with its actions.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, time

from sqlalchemy import update
from sqlmodel import Session

from core.domain import workdays
from core.domain.clock import to_db, zone
from core.domain.errors import BadInput, Forbidden, NotFound
from core.domain.models import (
    Announcement, BoardColumn, Person, RequestStep, StepAssignee, StepDecision, TaskLink, TaskStatus,
)
from core.forms.records import (
    OPEN_STATES, StepPeople, Walk, admins, ask, event, form_of, has_level, join, load, member, only_above, people,
    people_of, resolve, step_data, tell,
)
from core.forms.request_cards import show
from core.forms.schema import AUTHOR, END, Action, Label, Step, due_after, holds
from core.presentation.i18n import LANGUAGES, N_
from core.services import reminders
from core.services.people import get_active
from core.services.tasks import NOT_FOUND, TITLE_MAX, can_see, create_task, participants


# The route engine: opens the next step that applies, closes steps, ends requests.
#
# Steps are walked in the order written; `next` and a decide step's outcomes
# jump; a step whose `when` fails, or that names only people above an author
# who has nobody above, is passed by. A manager-chain step opens one level at
# a time, up to the top. Everything happens in the caller's transaction.

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
    people_ = resolve(walk.session, walk.author, walk.request.values, step.who, level)
    if not people_ and step.kind != "bot":
        if only_above(step):
            return None
        people_ = admins(walk.session)  # a role nobody holds: the admins must sort it out
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
    if step.is_chain and has_level(walk.session, walk.author, row.level + 1):
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
    walk.request.state, walk.request.closed_at, walk.request.current_step_id = state, to_db(walk.now), None
    walk.request.updated_at = to_db(walk.now)
    walk.session.add(walk.request)
    walk.task.status, walk.task.column, walk.task.closed_at = FINAL[state], BoardColumn.DONE, to_db(walk.now)
    event(walk, f"request_{state}", form=dict(walk.form.title.texts))
    reminders.reschedule(walk.session, walk.task, walk.now)
    if state == "done":
        run_actions(walk, walk.form.on_complete)


# What a form does when a request starts or completes: tasks from table rows,
# an announcement to the team's channels, a notice to named people or roles.

PLACEHOLDER = re.compile(r"\{(\w+)\}")
DUE_HOUR = 18  # a row's due date without a time means the end of that working day
ANNOUNCEMENT_MAX = 3000


def run_actions(walk: Walk, actions: tuple[Action, ...]) -> None:
    for index, action in enumerate(actions):
        if action.kind == "tasks_from":
            tasks_from_rows(walk, action)
        elif action.kind == "announce":
            announce(walk, action, index)
        else:
            people = resolve(walk.session, walk.author, walk.request.values, action.who)
            tell(walk, [p.id for p in people], "notify", str(index), text=texts(walk, action.text))


def texts(walk: Walk, label: Label | None) -> dict[str, str] | None:
    """A form's text with {field}, {author} and {id} filled in, in every language."""
    if label is None:
        return None
    tz = walk.request.timezone
    return {lang: PLACEHOLDER.sub(lambda m: _value(walk, m.group(1), lang, tz), label.text(lang))
            for lang in LANGUAGES}


def _value(walk: Walk, name: str, lang: str, tz: str) -> str:
    if name == "author":
        return walk.author.name
    if name == "id":
        return f"#{walk.task.id}"
    field = walk.form.field(name)
    return show(walk.session, field, walk.request.values.get(name), lang, tz) if field else ""


def tasks_from_rows(walk: Walk, action: Action) -> None:
    """One task per row, linked to the request's task, with the row's assignee and due date."""
    created = []
    for row in walk.request.values.get(action.field) or []:
        title = str(row.get(action.title) or "").strip()[:TITLE_MAX]
        if not title:
            continue
        handle = row.get(action.assignee) if action.assignee else None
        assignee = member(walk.session, handle) if handle else None
        zone_name = (assignee.timezone if assignee else None) or walk.request.timezone
        due = _due(row.get(action.due), zone_name) if action.due else None
        task = create_task(walk.session, walk.author.id, title, now=walk.now, due_at=due,
                           assignee_id=assignee.id if assignee else None).task
        low, high = sorted((walk.task.id, task.id))
        walk.session.add(TaskLink(task_id=low, other_id=high, created_by=walk.author.id, created_at=to_db(walk.now)))
        created.append(task.id)
    if created:
        walk.session.flush()
        event(walk, "tasks_created", ids=created)


def _due(value, tz: str) -> datetime | None:
    """A row's due: a datetime as it is; a date at 18:00 in the assignee's zone."""
    if not value:
        return None
    if "T" in str(value):
        return datetime.fromisoformat(value)
    local = datetime.combine(date.fromisoformat(value), time(DUE_HOUR), tzinfo=zone(tz))
    return to_db(local)


def announce(walk: Walk, action: Action, index: int) -> None:
    """A post for the announcement channels, in every language; the announcements tick
    publishes it to whichever channels are running (this transaction does not know them)."""
    each = ANNOUNCEMENT_MAX // 2 - 50  # both languages must fit in one announcement's text
    text = json.dumps({lang: words[:each] for lang, words in texts(walk, action.text).items()}, ensure_ascii=False)
    walk.session.add(Announcement(author_id=walk.author.id, kind="form", text=text, post_at=to_db(walk.now),
                                  status="scheduled", dedupe_key=f"form:{walk.request.id}:{index}",
                                  created_at=to_db(walk.now)))
    walk.session.flush()


# Who may act on a request's current step, and the compare-and-set that makes decisions race-free.
#
# Two approvers of an `any` step tapping at once: each first bumps the step's
# version with `UPDATE … WHERE id = :id AND state = 'open'`. The database lets
# one of them hold the row; the other waits, and once the first has closed the
# step its update matches nothing, so it is refused: one outcome, whatever the
# timing. The step's people are read before that, once; the update returns the
# row, and a version moved by anyone else means they are read again under the
# lock, so the same person tapping twice (or the last two of an `all` step)
# sees the other's decision. The unique (step, person) constraint on decisions
# stays the last word.

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
