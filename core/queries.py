"""Read-only questions: lists, the board, a task's history."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from core.clock import to_db
from core.errors import BadInput
from core.i18n import N_
from core.models import CLOSED_STATUSES, BoardColumn, Person, Task, TaskEvent, TaskWatcher
from core.people import get_active, manager_chain

SCOPES = (N_("mine"), N_("created"), N_("watching"), N_("overdue"), N_("all"))
LIST_LIMIT = 30
BOARD_PER_COLUMN = 10
DONE_RECENTLY = timedelta(days=7)
UNKNOWN_SCOPE = N_("I can list: mine, created, watching, overdue, all. For example: /tasks overdue")


def _open(stmt):
    return stmt.where(col(Task.status).not_in([s.value for s in CLOSED_STATUSES]))


def _visible(session: Session, actor: Person, stmt):
    """Restrict to tasks the actor may see (admins see everything)."""
    if actor.is_admin:
        return stmt
    team = [actor.id] + [p.id for p in _reports(session, actor)]
    watched = select(TaskWatcher.task_id).where(TaskWatcher.person_id == actor.id)
    return stmt.where(or_(
        col(Task.creator_id).in_(team), col(Task.assignee_id).in_(team), col(Task.id).in_(watched),
    ))


def _reports(session: Session, manager: Person) -> list[Person]:
    """Everyone whose manager chain includes this person."""
    people = session.exec(select(Person).where(Person.active == True)).all()  # noqa: E712
    return [p for p in people if p.id != manager.id and manager.id in {m.id for m in manager_chain(session, p)}]


def list_tasks(session: Session, actor_id: int, scope: str, *, now: datetime) -> list[Task]:
    """/tasks mine|created|watching|overdue|all: open tasks, soonest deadline first."""
    actor = get_active(session, actor_id)
    scope = (scope or "mine").strip().lower()
    if scope not in SCOPES:
        raise BadInput(UNKNOWN_SCOPE)
    stmt = _open(select(Task))
    if scope == "mine":
        stmt = stmt.where(Task.assignee_id == actor.id)
    elif scope == "created":
        stmt = stmt.where(Task.creator_id == actor.id)
    elif scope == "watching":
        stmt = stmt.where(col(Task.id).in_(select(TaskWatcher.task_id).where(TaskWatcher.person_id == actor.id)))
    else:
        stmt = _visible(session, actor, stmt)
        if scope == "overdue":
            stmt = stmt.where(Task.due_at != None, Task.due_at <= to_db(now))  # noqa: E711
    stmt = stmt.order_by(Task.due_at.is_(None), Task.due_at, Task.id).limit(LIST_LIMIT)
    return list(session.exec(stmt))


def board(session: Session, actor_id: int, *, now: datetime) -> dict[BoardColumn, tuple[int, list[Task]]]:
    """The kanban: per column, how many tasks and the first few."""
    actor = get_active(session, actor_id)
    columns: dict[BoardColumn, tuple[int, list[Task]]] = {}
    for column in BoardColumn:
        stmt = _visible(session, actor, select(Task).where(Task.column == column))
        if column is BoardColumn.DONE:
            stmt = stmt.where(Task.closed_at >= to_db(now - DONE_RECENTLY))
        count = session.exec(select(func.count()).select_from(stmt.subquery())).one()
        order = (Task.closed_at.desc(),) if column is BoardColumn.DONE else (Task.due_at.is_(None), Task.due_at, Task.id)
        columns[column] = (count, list(session.exec(stmt.order_by(*order).limit(BOARD_PER_COLUMN))))
    return columns


def history(session: Session, task_id: int) -> list[TaskEvent]:
    """Every change of a task, oldest first."""
    return list(session.exec(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)))
