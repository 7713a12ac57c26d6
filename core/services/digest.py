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

from core.domain.clock import zone
from core.domain.models import CLOSED_STATUSES, Person, RequestStep, StepAssignee, Task
from core.infra.outbox import enqueue_many, notice
from core.services.people import Defaults

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
    """Everyone of this zone not yet served today: marked, and queued a digest unless it is empty
    (set-based: the counts for all of them in two GROUP BY queries, the notices in one INSERT)."""
    today = local.date()
    due = select(Person).where(
        Person.active == True, person_zone == tz,  # noqa: E712
        (Person.last_digest_on == None) | (Person.last_digest_on < today),  # noqa: E711
    ).with_for_update(skip_locked=True)
    people = session.exec(due).all()
    for person in people:
        person.last_digest_on = today
        session.add(person)
    if local.hour >= TOO_LATE_HOUR or not people:
        return 0
    ids = [p.id for p in people]
    busy = set(open_counts(session, ids)) | set(waiting_counts(session, ids))
    return enqueue_many(session, [
        notice(key=f"digest:{pid}:{today.isoformat()}", recipient_id=pid, template="digest",
               context={"day": today.isoformat()}) for pid in ids if pid in busy], now=now)


def open_counts(session: Session, person_ids: list[int]) -> dict[int, int]:
    """Open tasks assigned to each person (only those with some)."""
    return dict(session.exec(select(Task.assignee_id, func.count()).where(
        col(Task.assignee_id).in_(person_ids), col(Task.status).not_in([s.value for s in CLOSED_STATUSES]))
        .group_by(Task.assignee_id)).all())


def waiting_counts(session: Session, person_ids: list[int]) -> dict[int, int]:
    """Approval and work steps waiting for each person's decision (only those with some)."""
    return dict(session.exec(select(StepAssignee.person_id, func.count()).select_from(StepAssignee)
                             .join(RequestStep, RequestStep.id == StepAssignee.step_id)
                             .where(col(StepAssignee.person_id).in_(person_ids), StepAssignee.state == "pending",
                                    RequestStep.state == "open")
                             .group_by(StepAssignee.person_id)).all())
