"""The morning digest: at 9:00 in each person's zone, their open and overdue tasks
and the approvals waiting for them.

Each person's `last_digest_on` holds the local day of their last digest, so
a tick only looks at the people whose morning has come and who have not had
it yet: cheap for any number of people, and a restart sends nobody two.
A morning the bot missed entirely (down until after noon) is skipped, and
so is an empty digest.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.clock import zone
from core.models import CLOSED_STATUSES, Person, RequestStep, StepAssignee, Task
from core.outbox import enqueue
from core.people import Defaults

HOUR, TOO_LATE_HOUR = 9, 12


def tick(store, defaults: Defaults, now: datetime) -> int:
    """Queue today's digest for everyone whose 9:00 has come; returns how many were queued."""
    queued = 0
    with store.session() as session:
        person_zone = func.coalesce(Person.timezone, defaults.timezone)
        for tz in session.exec(select(person_zone).where(Person.active == True).distinct()).all():  # noqa: E712
            local = now.astimezone(zone(tz))
            if local.hour >= HOUR:
                queued += _morning(session, person_zone, tz, local, now)
    return queued


def _morning(session: Session, person_zone, tz: str, local: datetime, now: datetime) -> int:
    today, queued = local.date(), 0
    due = select(Person).where(
        Person.active == True, person_zone == tz,  # noqa: E712
        (Person.last_digest_on == None) | (Person.last_digest_on < today),  # noqa: E711
    ).with_for_update(skip_locked=True)
    for person in session.exec(due).all():
        person.last_digest_on = today
        session.add(person)
        if local.hour < TOO_LATE_HOUR and (open_count(session, person.id) or waiting_count(session, person.id)):
            enqueue(session, key=f"digest:{person.id}:{today.isoformat()}", recipient_id=person.id,
                    template="digest", now=now, context={"day": today.isoformat()})
            queued += 1
    return queued


def open_count(session: Session, person_id: int) -> int:
    """Open tasks assigned to the person."""
    return session.exec(select(func.count()).select_from(Task).where(
        Task.assignee_id == person_id, col(Task.status).not_in([s.value for s in CLOSED_STATUSES]))).one()



def waiting_count(session: Session, person_id: int) -> int:
    """Approval and work steps waiting for the person's decision."""
    return session.exec(select(func.count()).select_from(StepAssignee)
                        .join(RequestStep, RequestStep.id == StepAssignee.step_id)
                        .where(StepAssignee.person_id == person_id, StepAssignee.state == "pending",
                               RequestStep.state == "open")).one()
