"""Deadline pings as rows: by default a day before (when there is time), an hour
before, at the deadline, then daily while overdue (the org file may change it:
core/domain/policy.py). Snoozing moves the next ping; closing cancels them. The
scheduler's tick turns due rows into outbox notices.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from core.domain import policy as org_policy
from core.domain.clock import from_db, to_db
from core.domain.models import CLOSED_STATUSES, Reminder, Task
from core.domain.policy import Policy
from core.infra.outbox import enqueue_many, notice


_INSERT = insert(Reminder.__table__)


def cancel_pending(session: Session, task_id: int) -> None:
    """Cancel every ping not yet sent for a task (one UPDATE)."""
    session.execute(update(Reminder).where(Reminder.task_id == task_id, Reminder.status == "pending")
                    .values(status="cancelled"))


def plan(task: Task, now: datetime, policy: Policy = Policy()) -> list[tuple[str, datetime]]:
    """The pings a task should get from now on, as (kind, when)."""
    due, snoozed = from_db(task.due_at), from_db(task.snoozed_until)
    if due is None or task.status in CLOSED_STATUSES:
        return []
    offsets = [(f"before:{int(t.total_seconds())}", t) for t in sorted(policy.before, reverse=True)]
    if policy.at_deadline:
        offsets.append(("at_due", timedelta(0)))
    pings = [(kind, due - offset) for kind, offset in offsets if due - offset > now]
    if due <= now and policy.overdue_every:
        pings.append(("overdue", now))
    if snoozed and snoozed > now:
        pings = [(kind, when) for kind, when in pings if when >= snoozed]
        pings.insert(0, ("snoozed", snoozed))
    return pings


def reschedule(session: Session, task: Task, now: datetime, *, new: bool = False) -> None:
    """Replace a task's pending pings with the ones its state and the org's policy call for
    (`new`: the task was made in this transaction, it has none to cancel)."""
    if not new:
        cancel_pending(session, task.id)
    if task.due_at is None or task.status in CLOSED_STATUSES:
        return  # no pings: the policy need not be read
    person_id = task.assignee_id or task.creator_id
    rows = [{"task_id": task.id, "person_id": person_id, "kind": kind, "due_at": to_db(when), "status": "pending"}
            for kind, when in plan(task, now, org_policy.load(session))]
    if rows:
        session.execute(_INSERT, rows)  # plain rows: no ORM bulk path


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


def next_overdue(last: datetime, now: datetime, every: timedelta) -> datetime:
    """The next overdue ping: in step with the last one, after now."""
    return last + ((now - last) // every + 1) * every


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
        if not latest:
            return 0
        # One query for the tasks, whatever is due: a sweep costs what is due, not what is stored.
        ids = {row.task_id for row in latest.values()}
        found = {task.id: task for task in session.exec(select(Task).where(col(Task.id).in_(ids)))}
        every = org_policy.load(session).overdue_every
        # Set-based: one INSERT for the notices and one for the next overdue pings, whatever is due.
        enqueue_many(session, [_notice(row, now) for row in latest.values()], now=now)
        follow = [_next(row, found[row.task_id], every, now) for row in latest.values()]
        if any(follow):
            session.execute(insert(Reminder), [f for f in follow if f])
        return len(latest)


def _notice(row: Reminder, now: datetime) -> dict:
    """The ping's notice; marked late when it came due while the bot was down."""
    late = now - from_db(row.due_at) > timedelta(minutes=5)
    return notice(key=f"reminder:{row.id}", recipient_id=row.person_id, template="reminder",
                  task_id=row.task_id, context={"kind": row.kind, "late": late})


def _next(row: Reminder, task: Task, every: timedelta | None, now: datetime) -> dict | None:
    """The next daily ping of an overdue task, as a row to insert; None when there is none."""
    if not (every and row.kind in ("at_due", "overdue", "snoozed") and from_db(task.due_at) <= now):
        return None
    return {"task_id": task.id, "person_id": row.person_id, "kind": "overdue", "status": "pending",
            "due_at": to_db(next_overdue(from_db(row.due_at), now, every))}
