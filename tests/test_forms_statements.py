"""A decision reads its request once: the SQL a request tap and /approvals cost stays bounded.

`python -m bench statements` prints the figures; these pin them, so a change that reads the
request, its step or its people again per tap (or a row again per listed approval) shows up here.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlmodel import select

from core import forms
from core.domain.models import Person
from core.services import commands as c

LEAVE = {"kind": "vacation", "dates": "14.12.2026 - 27.12.2026", "substitute": "@maria"}


@contextmanager
def statements(app):
    """A list that grows by one per SQL statement run inside the block."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(app.store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.store.engine, "before_cursor_execute", count)


def person(app, handle: str) -> int:
    with app.store.session() as session:
        return session.exec(select(Person.id).where(Person.handle == handle)).one()


def leave_request(app, clock) -> tuple[int, int]:
    """Pavel's leave request, waiting for Olga (his manager): (task id, step id)."""
    with app.store.session() as session:
        out = forms.start(session, person(app, "pavel"), app.forms.get("leave_request"), LEAVE, now=clock(),
                          tz="Europe/Moscow")
        return out.task.id, out.request.current_step_id


def test_an_approve_tap_reads_the_request_once(app, clock):
    olga = person(app, "olga")
    app.chat.run(olga, c.ApproveStep(*leave_request(app, clock)), "telegram")  # first-use costs are not the tap's
    task_id, step_id = leave_request(app, clock)
    with statements(app) as seen:
        answer = app.chat.run(olga, c.ApproveStep(task_id, step_id), "telegram")
    assert answer.kind == "card" and "HR" in answer.text
    assert len(seen) <= 25, "\n".join(seen)
    assert sum(s.startswith("SELECT") and "formrequest" in s for s in seen) == 1, "the request is read once"


def test_a_reject_and_a_got_it_stay_within_their_budget(app, clock):
    olga, anna = person(app, "olga"), person(app, "anna")
    app.chat.run(olga, c.RejectStep(*leave_request(app, clock), "Not now"), "telegram")
    task_id, step_id = leave_request(app, clock)
    with statements(app) as seen:
        answer = app.chat.run(olga, c.RejectStep(task_id, step_id, "Not now"), "telegram")
    assert answer.kind == "card" and len(seen) <= 25, "\n".join(seen)
    task_id, step_id = leave_request(app, clock)
    with app.store.session() as session:
        hr_step = forms.approve(session, olga, task_id, now=clock(), step_id=step_id).request.current_step_id
    with statements(app) as seen:
        answer = app.chat.run(anna, c.AcknowledgeStep(task_id, hr_step), "telegram")
    assert answer.kind == "card" and len(seen) <= 30, "\n".join(seen)


def test_approvals_costs_the_same_for_2_and_12_waiting(app, clock):
    olga, costs = person(app, "olga"), []
    for wanted in (2, 12):
        while len(app.chat.handle(olga, "/approvals", "telegram").buttons) < wanted:
            leave_request(app, clock)
        with statements(app) as seen:
            screen = app.chat.handle(olga, "/approvals", "telegram")
        assert len(screen.buttons) == wanted
        costs.append(len(seen))
    assert costs[0] == costs[1] <= 12, costs
