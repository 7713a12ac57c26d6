"""Step deadlines: past one, the step's people are reminded, or the step escalates.

A step with `escalate: true` goes, at its deadline, to the manager of each
person it waits for (a chain step climbs one level), with a fresh deadline,
so an unanswered escalation climbs by itself up to the top. Otherwise (and
at the top) the people are reminded every `remind_every` until it is done.
The scheduler calls `tick` with `now`; rows are claimed with SKIP LOCKED, so
two workers never remind twice.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from core.domain import workdays
from core.domain.clock import to_db
from core.domain.models import FormRequest, Person, RequestStep, StepAssignee
from core.forms import engine, who
from core.forms.history import Walk, ask, event, join, people, walk_for
from core.forms.schema import Step
from core.forms.timing import due_after

BATCH = 200


def tick(store, now: datetime) -> int:
    """Handle every step whose deadline or next reminder has come; returns how many."""
    with store.session() as session:
        rows = list(session.exec(
            select(RequestStep).where(col(RequestStep.state).in_(("open", "waiting")),
                                      RequestStep.next_ping_at <= to_db(now))
            .order_by(RequestStep.next_ping_at).limit(BATCH).with_for_update(skip_locked=True)))
        for row in rows:
            overdue(session, row, now)
        return len(rows)


def overdue(session: Session, row: RequestStep, now: datetime) -> None:
    """One step past its deadline (or its last reminder): escalate it, or remind its people."""
    walk = walk_for(session, session.get(FormRequest, row.request_id), None, now)
    step = walk.form.step(row.step_key)
    if row.kind == "bot" and row.state == "waiting":
        from core.forms.bots import give_up  # bots build on the deadlines' engine too

        give_up(walk, row, "no answer before the step's deadline")
        return
    if step is not None and step.escalate and escalate(walk, step, row):
        return
    ask(walk, row, people(walk, row).pending(), reason="reminder")
    row.reminders += 1
    row.next_ping_at = to_db(now + step.remind_every) if step else None
    session.add(row)


def escalate(walk: Walk, step: Step, row: RequestStep) -> bool:
    """Hand the step up one level; False when there is nobody above (then remind instead)."""
    if step.is_chain:
        if not who.has_level(walk.session, walk.author, row.level + 1):
            return False
        engine.close(walk, row, "escalated")
        event(walk, "escalated", step=row.step_key, step_label=dict(step.label.texts))
        engine.open_step(walk, step, row.level + 1)
        return True
    moved = _to_managers(walk, row)
    if not moved:
        return False
    row.due_at = row.next_ping_at = to_db(due_after(walk.now, step.deadline, walk.request.timezone,
                                                      workdays.load(walk.session)))
    row.version += 1  # the step waits for other people now: a decider who read the old ones reads again
    walk.session.add(row)
    walk.current = None
    join(walk, moved)
    ask(walk, row, moved, reason="escalated")
    names = [walk.session.get(Person, p).name for p in moved]
    event(walk, "escalated", step=row.step_key, step_label=dict(step.label.texts), to=names)
    return True


def _to_managers(walk: Walk, row: RequestStep) -> list[int]:
    """Each waited-for person's manager takes their place (they decide on their behalf)."""
    session, moved = walk.session, []
    for assignee in session.exec(select(StepAssignee).where(StepAssignee.step_id == row.id,
                                                            StepAssignee.state == "pending")).all():
        person = session.get(Person, assignee.person_id)
        manager = session.get(Person, person.manager_id) if person.manager_id else None
        if manager is None or not manager.active or session.get(StepAssignee, (row.id, manager.id)):
            continue
        assignee.state = "escalated"
        session.add(assignee)
        session.add(StepAssignee(step_id=row.id, person_id=manager.id, on_behalf_of=person.id, since=to_db(walk.now)))
        moved.append(manager.id)
    session.flush()
    return moved
