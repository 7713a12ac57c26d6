"""Read-only questions: lists, the board, a task's history."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, union_all
from sqlmodel import Session, col, func, select

from core.domain.clock import from_db, to_db
from core.domain.errors import BadInput
from core.domain.models import CLOSED_STATUSES, BoardColumn, Person, Task, TaskEvent, TaskWatcher
from core.presentation.i18n import N_
from core.services.people import get_active

SCOPES = (N_("mine"), N_("created"), N_("watching"), N_("overdue"), N_("all"))
LIST_LIMIT = 30
CHAIN_LIMIT = 50  # as deep as people.manager_chain looks
BOARD_PER_COLUMN = 10
DONE_RECENTLY = timedelta(days=7)
UNKNOWN_SCOPE = N_("I can list: mine, created, watching, overdue, all. For example: /tasks overdue")


def _open(stmt):
    return stmt.where(col(Task.status).not_in([s.value for s in CLOSED_STATUSES]))


def _team(session: Session, actor: Person) -> list[int] | None:
    """The actor and everyone below them: whose tasks they see (None for admins, who see all)."""
    if actor.is_admin:
        return None
    return [actor.id] + _reports(session, actor)


def _watched(actor: Person):
    return select(TaskWatcher.task_id).where(TaskWatcher.person_id == actor.id)


def _visible_to(actor: Person, team: list[int] | None, stmt):
    """Restrict to tasks the actor may see, with the team computed once per page."""
    if team is None:
        return stmt
    return stmt.where(or_(
        col(Task.creator_id).in_(team), col(Task.assignee_id).in_(team), col(Task.id).in_(_watched(actor)),
    ))


def _visible(session: Session, actor: Person, stmt):
    """Restrict to tasks the actor may see (admins see everything)."""
    return _visible_to(actor, _team(session, actor), stmt)


def _reports(session: Session, manager: Person) -> list[int]:
    """The ids of the active people whose manager chain includes this person: the org chart read
    once as (id, manager) pairs and walked down from them (as deep as `manager_chain` walks up),
    instead of a Person object and a chain per member."""
    below: dict[int | None, list[int]] = {}
    active = set()
    for person_id, manager_id, is_active in session.exec(select(Person.id, Person.manager_id, Person.active)):
        below.setdefault(manager_id, []).append(person_id)
        if is_active:
            active.add(person_id)
    found, seen, level = [], {manager.id}, [manager.id]
    for _ in range(CHAIN_LIMIT):
        level = list(dict.fromkeys(p for m in level for p in below.get(m, ()) if p not in seen))
        if not level:
            break
        seen.update(level)
        found += level
    return [p for p in found if p in active]


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
    """The kanban: per column, how many tasks and the first few (two queries, whatever the counts)."""
    actor = get_active(session, actor_id)
    team, since = _team(session, actor), to_db(now - DONE_RECENTLY)
    counts = _board_counts(session, actor, team, since)
    shown = _board_tasks(session, actor, team, since)
    return {column: (counts.get(column.value, 0), shown.get(column.value, [])) for column in BoardColumn}


def _board_counts(session: Session, actor: Person, team: list[int] | None, since) -> dict[str, int]:
    """Tasks per column the actor sees, in one statement. The visible tasks are split into disjoint
    parts (assigned to the team; created by it and assigned outside; only watched), and each into
    the open columns and the recently done, so every part is counted on an index range that holds
    just those rows: an OR over them, or over the done column's whole history, visits every row."""
    def counted(*where):
        return select(Task.column, func.count()).where(*where).group_by(Task.column)
    live = [col(Task.column).in_([c.value for c in BoardColumn if c is not BoardColumn.DONE]),
            (Task.column == BoardColumn.DONE.value) & (Task.closed_at >= since)]
    if team is None:
        parts = [counted(where) for where in live]
    else:
        outside = or_(Task.assignee_id == None, col(Task.assignee_id).not_in(team))  # noqa: E711
        visible = [(col(Task.assignee_id).in_(team),), (col(Task.creator_id).in_(team), outside),
                   (col(Task.id).in_(_watched(actor)), col(Task.creator_id).not_in(team), outside)]
        parts = [counted(where, *part) for part in visible for where in live]
    found: dict[str, int] = {}
    for column, count in session.exec(union_all(*parts)):
        found[column] = found.get(column, 0) + count
    return found


def _board_tasks(session: Session, actor: Person, team: list[int] | None, since) -> dict[str, list[Task]]:
    """The first BOARD_PER_COLUMN of every column, in one statement: per column, the tasks with a
    deadline by deadline, then those without (each part read in the order of an index), the done
    column by when it closed."""
    def first(column: BoardColumn, *where, order):
        stmt = _visible_to(actor, team, select(Task).where(Task.column == column.value, *where))
        part = stmt.order_by(*order).limit(BOARD_PER_COLUMN).subquery()
        return select(*part.c)
    parts = [first(BoardColumn.DONE, Task.closed_at >= since, order=(Task.closed_at.desc(),))]
    for column in (c for c in BoardColumn if c is not BoardColumn.DONE):
        parts += [first(column, Task.due_at != None, order=(Task.due_at, Task.id)),  # noqa: E711
                  first(column, Task.due_at == None, order=(Task.id,))]  # noqa: E711
    found: dict[str, list[Task]] = {}
    for task in session.exec(select(Task).from_statement(union_all(*parts))).scalars():
        found.setdefault(task.column, []).append(task)
    # A union keeps no order: each column is put in order again (a few dozen rows).
    return {column: sorted(shown, key=_board_order)[:BOARD_PER_COLUMN] for column, shown in found.items()}


def _board_order(task: Task):
    """Done: the latest closed first; else the soonest deadline first, those without one last."""
    if task.column == BoardColumn.DONE.value:
        return (0, -from_db(task.closed_at).timestamp(), 0)
    return (task.due_at is None, from_db(task.due_at).timestamp() if task.due_at else 0, task.id)


def history(session: Session, task_id: int) -> list[TaskEvent]:
    """Every change of a task, oldest first."""
    return list(session.exec(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)))
