"""Deadline pings as rows: a day before (when there is time), an hour before,
at the deadline, then daily while overdue. Snoozing moves the next ping;
closing cancels them. The scheduler's tick turns due rows into outbox notices.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.clock import from_db, to_db
from core.models import CLOSED_STATUSES, Reminder, Task
from core.outbox import enqueue

BEFORE = (("day_before", timedelta(days=1)), ("hour_before", timedelta(hours=1)), ("at_due", timedelta(0)))
OVERDUE_EVERY = timedelta(days=1)


def cancel_pending(session: Session, task_id: int) -> None:
    """Cancel every ping not yet sent for a task."""
    for row in session.exec(select(Reminder).where(Reminder.task_id == task_id, Reminder.status == "pending")):
        row.status = "cancelled"
        session.add(row)


def plan(task: Task, now: datetime) -> list[tuple[str, datetime]]:
    """The pings a task should get from now on, as (kind, when)."""
    due, snoozed = from_db(task.due_at), from_db(task.snoozed_until)
    if due is None or task.status in CLOSED_STATUSES:
        return []
    pings = [(kind, due - offset) for kind, offset in BEFORE if due - offset > now]
    if due <= now:
        pings.append(("overdue", now))
    if snoozed and snoozed > now:
        pings = [(kind, when) for kind, when in pings if when >= snoozed]
        pings.insert(0, ("snoozed", snoozed))
    return pings


def reschedule(session: Session, task: Task, now: datetime) -> None:
    """Replace a task's pending pings with the ones its state calls for."""
    cancel_pending(session, task.id)
    person_id = task.assignee_id or task.creator_id
    for kind, when in plan(task, now):
        session.add(Reminder(task_id=task.id, person_id=person_id, kind=kind, due_at=to_db(when)))


def claim_due(session: Session, now: datetime, limit: int = 500) -> list[Reminder]:
    """Due pending pings, locked for this worker (SKIP LOCKED on PostgreSQL)."""
    stmt = (
        select(Reminder)
        .where(Reminder.status == "pending", Reminder.due_at <= to_db(now))
        .order_by(Reminder.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(stmt))


def next_daily(last: datetime, now: datetime) -> datetime:
    """The next overdue ping: same time of day as the last one, after now."""
    days = (now - last) // OVERDUE_EVERY + 1
    return last + days * OVERDUE_EVERY


def tick(store, now: datetime) -> int:
    """Turn due pings into outbox notices; overdue tasks get the next daily ping.

    When several pings of one task came due together (the bot was down), only
    the latest is sent: "due in a day" is noise once the deadline has passed.
    """
    with store.session() as session:
        due = claim_due(session, now)
        latest = {}
        for row in due:
            latest[(row.task_id, row.person_id)] = row  # claim_due orders by due_at
        for row in due:
            row.status, row.sent_at = ("sent" if latest[(row.task_id, row.person_id)] is row else "skipped"), to_db(now)
            session.add(row)
        for row in latest.values():
            _ping(session, row, now)
        return len(latest)


def _ping(session: Session, row: Reminder, now: datetime) -> None:
    task = session.get(Task, row.task_id)
    late = now - from_db(row.due_at) > timedelta(minutes=5)
    enqueue(session, key=f"reminder:{row.id}", recipient_id=row.person_id, template="reminder",
            task_id=task.id, now=now, context={"kind": row.kind, "late": late})
    if row.kind in ("at_due", "overdue", "snoozed") and from_db(task.due_at) <= now:
        session.add(Reminder(task_id=task.id, person_id=row.person_id, kind="overdue",
                             due_at=to_db(next_daily(from_db(row.due_at), now))))
