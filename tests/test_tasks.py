"""The task use cases on a real store (SQLite, and PostgreSQL when CI has it)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core.domain.errors import BadInput, Forbidden, NotFound
from core.domain.models import Comment, Outbox, Person, Reminder, Task, TaskEvent, TaskLink
from core.services import queries, reminders, tasks
from tests.conftest import START

NOW = START
DUE = START + timedelta(days=3)


@pytest.fixture
def team(store):
    """boss manages lead; lead manages dev; outsider stands apart; admin sees all."""
    ids = {}
    with store.session() as session:
        for handle, manager, admin in [("boss", None, False), ("lead", "boss", False), ("dev", "lead", False),
                                       ("outsider", None, False), ("admin", None, True)]:
            person = Person(handle=handle, name=handle.title(), created_at=NOW, is_admin=admin,
                            manager_id=ids.get(manager))
            session.add(person)
            session.flush()
            ids[handle] = person.id
    return ids


def run(store, use_case, *args, **kwargs):
    with store.session() as session:
        return use_case(session, *args, now=kwargs.pop("now", NOW), **kwargs)


def outbox_to(store, person_id) -> list[Outbox]:
    with store.session() as session:
        return list(session.exec(select(Outbox).where(Outbox.recipient_id == person_id)))


def pending_reminders(store, task_id) -> list[tuple[str, object]]:
    with store.session() as session:
        rows = session.exec(select(Reminder).where(Reminder.task_id == task_id, Reminder.status == "pending")
                            .order_by(Reminder.due_at))
        return [(r.kind, r.due_at) for r in rows]


def test_create_notifies_assignee_and_watchers_not_the_author(store, team):
    out = run(store, tasks.create_task, team["lead"], "Prepare model", assignee_id=team["dev"],
              watcher_ids_=(team["boss"], team["lead"]), due_at=DUE)
    assert out.task.id >= 1 and out.task.status == "open"
    assert [o.template for o in outbox_to(store, team["dev"])] == ["task_event"]
    assert [o.template for o in outbox_to(store, team["boss"])] == ["task_event"]
    assert outbox_to(store, team["lead"]) == []  # the author made the change


def test_reminders_follow_the_deadline_snooze_and_close(store, team):
    task = run(store, tasks.create_task, team["lead"], "Ship", assignee_id=team["dev"], due_at=DUE).task
    assert pending_reminders(store, task.id) == [
        ("before:86400", DUE - timedelta(days=1)), ("before:3600", DUE - timedelta(hours=1)), ("at_due", DUE)]
    snooze_to = DUE - timedelta(hours=2)
    run(store, tasks.snooze, team["dev"], task.id, snooze_to)
    assert pending_reminders(store, task.id) == [
        ("snoozed", snooze_to), ("before:3600", DUE - timedelta(hours=1)), ("at_due", DUE)]
    run(store, tasks.set_due, team["lead"], task.id, NOW + timedelta(minutes=30))
    assert pending_reminders(store, task.id) == [("at_due", NOW + timedelta(minutes=30))]
    run(store, tasks.close, team["dev"], task.id)
    assert pending_reminders(store, task.id) == []


def test_a_tick_sends_due_pings_once_and_repeats_daily_while_overdue(store, team):
    task = run(store, tasks.create_task, team["lead"], "Ship", assignee_id=team["dev"],
               due_at=NOW + timedelta(minutes=30)).task
    assert reminders.tick(store, NOW) == 0
    later = NOW + timedelta(minutes=31)
    assert reminders.tick(store, later) == 1
    assert reminders.tick(store, later) == 0  # claimed once, never twice
    pings = [o for o in outbox_to(store, team["dev"]) if o.template == "reminder"]
    assert [p.context["kind"] for p in pings] == ["at_due"]
    assert pending_reminders(store, task.id) == [("overdue", NOW + timedelta(minutes=30, days=1))]
    assert reminders.tick(store, later + timedelta(days=1)) == 1


def test_a_ping_missed_while_the_bot_was_down_is_sent_marked_late(store, team):
    run(store, tasks.create_task, team["lead"], "Ship", assignee_id=team["dev"], due_at=NOW + timedelta(hours=2))
    reminders.tick(store, NOW + timedelta(hours=5))
    pings = [o.context for o in outbox_to(store, team["dev"]) if o.template == "reminder"]
    # "due in an hour" is stale by now: only the latest ping goes, marked late
    assert pings == [{"kind": "at_due", "late": True}]


@pytest.mark.parametrize("actor", ["outsider"])
def test_a_stranger_cannot_see_or_touch_a_task(store, team, actor):
    task = run(store, tasks.create_task, team["lead"], "Secret", assignee_id=team["dev"], due_at=DUE).task
    for use_case, args in [(tasks.close, ()), (tasks.reopen, ()), (tasks.comment, ("hi",)), (tasks.watch, ()),
                           (tasks.take, ()), (tasks.set_due, (DUE,)), (tasks.assign, (team[actor],))]:
        with pytest.raises(NotFound):
            run(store, use_case, team[actor], task.id, *args)


def test_managers_up_the_chain_see_but_only_participants_and_admins_manage(store, team):
    task = run(store, tasks.create_task, team["dev"], "Mine", due_at=DUE).task
    run(store, tasks.comment, team["boss"], task.id, "I can see this")  # boss is dev's manager's manager
    with pytest.raises(Forbidden):
        run(store, tasks.close, team["boss"], task.id)
    run(store, tasks.close, team["admin"], task.id)
    run(store, tasks.reopen, team["dev"], task.id)


def test_closing_and_reopening_keep_everything(store, team):
    task = run(store, tasks.create_task, team["lead"], "Keep", assignee_id=team["dev"], due_at=DUE).task
    run(store, tasks.comment, team["dev"], task.id, "first")
    run(store, tasks.attach_link, team["dev"], task.id, "https://example.com/a.pdf")
    run(store, tasks.close, team["dev"], task.id)
    with pytest.raises(BadInput):
        run(store, tasks.close, team["dev"], task.id)
    run(store, tasks.reopen, team["lead"], task.id)
    run(store, tasks.comment, team["lead"], task.id, "second")
    with store.session() as session:
        assert [c.body for c in session.exec(select(Comment).order_by(Comment.id))] == ["first", "second"]
        kinds = [e.kind for e in queries.history(session, task.id)]
    assert kinds == ["created", "commented", "attached", "closed", "reopened", "commented"]
    assert pending_reminders(store, task.id)  # reopening brings the pings back


def test_take_only_when_unassigned(store, team):
    task = run(store, tasks.create_task, team["lead"], "Anyone?", watcher_ids_=(team["dev"],)).task
    run(store, tasks.take, team["dev"], task.id)
    with store.session() as session:
        taken = session.get(Task, task.id)
        assert (taken.assignee_id, taken.status, taken.column) == (team["dev"], "in_progress", "in_progress")
    with pytest.raises((Forbidden, NotFound)):
        run(store, tasks.take, team["boss"], task.id)


def test_lists_and_board(store, team):
    a = run(store, tasks.create_task, team["lead"], "A", assignee_id=team["dev"], due_at=NOW + timedelta(hours=1)).task
    b = run(store, tasks.create_task, team["lead"], "B", assignee_id=team["dev"]).task
    run(store, tasks.create_task, team["outsider"], "C", assignee_id=team["outsider"])
    later = NOW + timedelta(hours=2)
    with store.session() as session:
        assert [t.id for t in queries.list_tasks(session, team["dev"], "mine", now=later)] == [a.id, b.id]
        assert [t.id for t in queries.list_tasks(session, team["dev"], "overdue", now=later)] == [a.id]
        assert [t.id for t in queries.list_tasks(session, team["lead"], "created", now=later)] == [a.id, b.id]
        assert {t.id for t in queries.list_tasks(session, team["boss"], "all", now=later)} == {a.id, b.id}
        assert len(queries.list_tasks(session, team["admin"], "all", now=later)) == 3
        with pytest.raises(BadInput):
            queries.list_tasks(session, team["dev"], "bogus", now=later)
    run(store, tasks.close, team["dev"], a.id)
    with store.session() as session:
        board = queries.board(session, team["boss"], now=later)
    assert {column.value: count for column, (count, _) in board.items()} == {
        "todo": 1, "in_progress": 0, "awaiting": 0, "done": 1}


def test_link_is_stored_once_and_both_tasks_record_it(store, team):
    a = run(store, tasks.create_task, team["lead"], "A").task
    b = run(store, tasks.create_task, team["lead"], "B").task
    run(store, tasks.link, team["lead"], b.id, a.id)
    run(store, tasks.link, team["lead"], a.id, b.id)
    with store.session() as session:
        linked = session.exec(select(TaskEvent.task_id).where(TaskEvent.kind == "linked")).all()
        links = session.exec(select(TaskLink)).all()
    assert sorted(linked) == [a.id, b.id]
    assert [(link.task_id, link.other_id) for link in links] == [(a.id, b.id)]


def test_file_attachments_keep_the_platform_file_id(store, team):
    task = run(store, tasks.create_task, team["lead"], "Scans").task
    run(store, tasks.attach_file, team["lead"], task.id, platform="telegram", file_id="BQACAgIAAxkBAAIB",
        name="scan.stl", mime_type="model/stl", size=123456)
    with store.session() as session:
        event = session.exec(select(TaskEvent).where(TaskEvent.kind == "attached")).one()
    assert event.data == {"type": "file", "name": "scan.stl"}


def test_inactive_people_cannot_act(store, team):
    with store.session() as session:
        session.get(Person, team["dev"]).active = False
    from core.domain.errors import UnknownPerson

    with pytest.raises(UnknownPerson):
        run(store, tasks.create_task, team["dev"], "Ghost task")


def test_the_org_reminder_policy_is_followed(store, team):
    from core.domain import policy

    with store.session() as session:
        policy.save(session, policy.Policy(before=(timedelta(hours=2),), at_deadline=False, overdue_every=None))
    task = run(store, tasks.create_task, team["lead"], "Ship", assignee_id=team["dev"], due_at=DUE).task
    assert pending_reminders(store, task.id) == [("before:7200", DUE - timedelta(hours=2))]
    assert reminders.tick(store, DUE + timedelta(minutes=1)) == 1
    assert pending_reminders(store, task.id) == []  # no daily overdue pings under this policy


def test_a_task_made_in_a_unit_that_added_its_assignee_first_goes_in_after_them(store, team):
    """create_task writes plain INSERTs: what the caller added unflushed (a new member) is still written
    first, and the task it returns is the session's own object, changed and saved like any loaded one."""
    with store.session() as session:
        session.get(Person, team["lead"])  # the actor is held: create_task reads nothing (no autoflush) first
        session.add(Person(id=900, handle="newcomer", name="Newcomer", created_at=NOW))  # not flushed yet
        out = tasks.create_task(session, team["lead"], "Welcome pack", now=NOW, assignee_id=900,
                                watcher_ids_=(team["dev"],), due_at=DUE)
        out.task.title = "Welcome pack, printed"
        session.add(out.task)
        task_id = out.task.id
    with store.session() as session:
        saved = session.get(Task, task_id)
        assert (saved.assignee_id, saved.title) == (900, "Welcome pack, printed")
        assert session.exec(select(TaskEvent.kind).where(TaskEvent.task_id == task_id)).all() == ["created"]
    assert [n.template for n in outbox_to(store, team["dev"])] == ["task_event"]
    assert [kind for kind, _ in pending_reminders(store, task_id)] == ["before:86400", "before:3600", "at_due"]
