"""Statements: SQL statements and commits per user action, counted with SQLAlchemy engine events.

Each action runs once (after a warm-up of the same kind) on the demo org in a
SQLite file, through the code a platform runs: `Chat.handle` for commands, the
Telegram button handler (with stand-ins for aiogram's query and the messenger)
for taps (a reason asked for, as Reject's, through the prompt's handler),
`reminders.tick` for the sweep, `Delivery.run_once` for delivery. A page
(`/tasks`, `/board`, `/approvals`) is counted at 10 and at 100 tasks shown to
the reader: a page built in a fixed number of queries costs the same at both.
The request taps: Approve and Reject on a leave request's manager step, Got it
on its HR step (the request completes), Done on a complaint's investigation.

Then one timing: `/task` through `Chat.handle` against its own writes (the
task, its history event, watchers, reminders, notices) done in one SQLAlchemy
Core transaction, the floor any ORM path can approach. Goal: >= 30 % of it.
"""
from __future__ import annotations

import asyncio
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import event, insert
from sqlmodel import select

from bench.common import NOW, Result, env_int, file_store
from bot.app import DEMO_ORG, build_app
from bot.settings import load_settings
from core.chat import taps
from core.domain.clock import to_db
from core.domain.models import Outbox, Person, Reminder, Task, TaskEvent, TaskWatcher
from core.infra import inbox
from core.infra.outbox import Sent
from core.services import commands as c
from core.services import digest, reminders, tasks

N_RATE = env_int("BENCH_STATEMENTS_N", 200)
SWEEP_DUE = 1000
DELIVERY_N = 50
TASK_TEXT = "/task Prepare model {n} @pavel @maria by завтра в 15:00"


class Counter:
    """Statements and commits on an engine while `counting()` is open; card renders too."""

    def __init__(self, app) -> None:
        self.app, self.statements, self.commits, self.cards = app, 0, 0, 0

    def _statement(self, *_args, **_kwargs) -> None:
        self.statements += 1

    def _commit(self, *_args, **_kwargs) -> None:
        self.commits += 1

    @contextmanager
    def counting(self):
        """Count from zero inside the block."""
        self.statements = self.commits = self.cards = 0
        engine, render = self.app.store.engine, self.app.templates.render

        def counted_render(template_name, *args, **kwargs):
            self.cards += template_name in ("card", "request_card")
            return render(template_name, *args, **kwargs)

        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        self.app.templates.render = counted_render
        try:
            yield self
        finally:
            event.remove(engine, "before_cursor_execute", self._statement)
            event.remove(engine, "commit", self._commit)
            del self.app.templates.render


class Messenger:
    """Delivers to nowhere, instantly: what delivery costs without the platform."""

    platform = "telegram"

    def __init__(self) -> None:
        self.n = 0

    def reaches(self, person) -> bool:
        return True

    async def send(self, person, message) -> Sent:
        self.n += 1
        return Sent("telegram", str(person.id), str(self.n))

    async def update(self, chat_id, message_id, message) -> None:
        return None

    async def send_to_chat(self, chat_id, message) -> Sent:
        self.n += 1
        return Sent("telegram", str(chat_id), str(self.n))


def app_in(directory: Path, name: str):
    settings = load_settings(_env_file=None, DATABASE_URL="sqlite://")
    return build_app(settings, store=file_store(directory, name), clock=lambda: NOW, org_file=DEMO_ORG)


def ids(app) -> dict[str, int]:
    with app.store.session() as session:
        return {p.handle: p.id for p in session.exec(select(Person))}


def answer_prompt(app, person_id: int, command: c.Command, text: str) -> None:
    """The words a tapped button asked for (Reject's reason), through Telegram's prompt handler."""
    from adapters.telegram.callbacks import FEATURES
    from adapters.telegram.handlers.prompts import on_answer

    async def nothing(*_args, **_kwargs):
        return None

    code = taps.pack(command)
    packed = FEATURES[code.feature](verb=code.verb, id=code.id, arg=code.arg).pack()

    async def data():
        return {"tap": packed}

    state = SimpleNamespace(get_data=data, clear=nothing)
    asyncio.run(on_answer(SimpleNamespace(text=text), state, app, person_id, SimpleNamespace(answer=nothing)))


def tap(app, person_id: int, command: c.Command) -> None:
    """A tap on a Telegram card, through the real handler (aiogram's objects stood in for)."""
    from adapters.telegram.callbacks import FEATURES
    from adapters.telegram.handlers.buttons import on_tap

    async def nothing(*_args, **_kwargs):
        return None

    code = taps.pack(command)
    data = FEATURES[code.feature](verb=code.verb, id=code.id, arg=code.arg)
    query = SimpleNamespace(answer=nothing, message=SimpleNamespace(chat=SimpleNamespace(id=1), message_id=1))
    telegram = SimpleNamespace(update=nothing, answer=nothing, post=nothing, prompt=nothing)
    asyncio.run(on_tap(query, data, None, app, person_id, telegram))


def add_tasks(app, creator: int, assignee: int, n: int, watcher: int | None = None) -> None:
    """n open tasks (Core inserts), with a watcher, a comment-free history and a deadline each."""
    now = to_db(NOW)
    with app.store.engine.begin() as conn:
        first = conn.execute(insert(Task.__table__).returning(Task.__table__.c.id), [
            {"title": f"Bulk {k}", "description": "", "creator_id": creator, "assignee_id": assignee,
             "due_at": now + timedelta(hours=k), "status": "open", "column": "todo", "created_at": now,
             "updated_at": now} for k in range(n)]).scalars().all()
        if watcher:
            conn.execute(insert(TaskWatcher.__table__), [{"task_id": t, "person_id": watcher} for t in first])


def recorded_task(app, olga: int, n: int) -> None:
    """/task as an adapter runs a platform update: recorded in the inbox (its own commit, before the
    platform hears "got it"), then handled, its unit of work marking the row handled."""
    entry = app.inbox.record("telegram", f"telegram:bench:{n}", "{}")
    with inbox.handling(entry):
        app.chat.handle(olga, TASK_TEXT.format(n=n), "telegram")


def count_actions(directory: Path) -> dict[str, tuple[int, int, int]]:
    """(statements, commits, cards rendered) per action."""
    app = app_in(directory, "statements.db")
    app.delivery.messengers.append(Messenger())
    who, counter, found = ids(app), Counter(app), {}
    olga, pavel, ivan = who["olga"], who["pavel"], who["ivan"]

    def run(name: str, action, setup=lambda: ()) -> None:
        action(*setup())  # warm-up: first-use costs (statement caches, templates) are not the action's
        args = setup()
        with counter.counting():
            action(*args)
        found[name] = (counter.statements, counter.commits, counter.cards)

    numbers = iter(range(10**6))
    run("/task", lambda: app.chat.handle(olga, TASK_TEXT.format(n=next(numbers)), "telegram"))
    run("/task via the inbox", lambda: recorded_task(app, olga, next(numbers)))
    run("Done tap", lambda task_id: tap(app, olga, c.CloseTask(task_id)),
        lambda: (app.chat.handle(olga, TASK_TEXT.format(n=next(numbers)), "telegram").task_id,))
    run("Approve tap", lambda task_id, step: tap(app, olga, c.ApproveStep(task_id, step)),
        lambda: leave_request(app, pavel))
    run("Reject (reason typed)", lambda task_id, step: answer_prompt(app, olga, c.RejectStep(task_id, step),
                                                                     "No: the release is that week"),
        lambda: leave_request(app, pavel))
    run("Got it tap (completes)", lambda task_id, step: tap(app, who["anna"], c.AcknowledgeStep(task_id, step)),
        lambda: approved(app, *leave_request(app, pavel), olga))
    run("Done tap (work step)", lambda task_id, step: tap(app, olga, c.CompleteStep(task_id, step)),
        lambda: complaint(app, who["kate"]))
    asyncio.run(app.delivery.drain())
    for shown in (10, 100):
        have = page_size(app, pavel)
        add_tasks(app, olga, pavel, shown - have, watcher=who["maria"])
        run(f"/tasks ({shown} tasks)", lambda: app.chat.handle(pavel, "/tasks", "telegram"))
        run(f"/board ({shown} tasks)", lambda: app.chat.handle(ivan, "/board", "telegram"))
        for _ in range(shown - waiting(app, olga)):
            leave_request(app, pavel)
        run(f"/approvals ({shown} waiting)", lambda: app.chat.handle(olga, "/approvals", "telegram"))
    run("digest (one, rendered)", lambda: render_digest(app, pavel))
    found["digest tick (all due)"] = digest_tick(app, counter)
    found["sweep (1 000 due)"] = sweep(app, counter, pavel)
    found[f"delivery ({DELIVERY_N} notices)"] = delivery(app, counter, pavel)
    app.store.engine.dispose()
    return found


def page_size(app, person_id: int) -> int:
    with app.store.session() as session:
        return len(session.exec(select(Task.id).where(Task.assignee_id == person_id, Task.status == "open")).all())


def leave_request(app, author: int) -> tuple[int, int]:
    """A leave request from the author, waiting for their manager: (task id, step id)."""
    from core import forms

    with app.store.session() as session:
        out = forms.start(session, author, app.forms.get("leave_request"),
                          {"kind": "vacation", "dates": "14.12.2026 - 27.12.2026", "substitute": "@maria"},
                          now=NOW, tz="Europe/Moscow")
        return out.task.id, forms.records.request_of_task(session, out.task.id).current_step_id


def approved(app, task_id: int, step_id: int, approver: int) -> tuple[int, int]:
    """The request approved by the manager, waiting for HR: (task id, HR's step id)."""
    from core import forms

    with app.store.session() as session:
        out = forms.approve(session, approver, task_id, now=NOW, step_id=step_id)
        return task_id, out.request.current_step_id


def complaint(app, author: int) -> tuple[int, int]:
    """A complaint whose investigation (Olga's, its root cause known) is Done without questions."""
    from core import forms

    with app.store.session() as session:
        out = forms.start(session, author, app.forms.get("customer_complaint"),
                          {"stage": "delivery", "client": "Smile clinic", "description": "The box came wet",
                           "severity": "low", "responsible": "@olga", "root_cause": "A torn wrap"},
                          now=NOW, tz="Europe/Moscow")
        return out.task.id, out.request.current_step_id


def waiting(app, person_id: int) -> int:
    from core import forms

    with app.store.session() as session:
        return len(forms.pending_for(session, person_id))


def render_digest(app, person_id: int) -> None:
    with app.store.session() as session:
        person = session.get(Person, person_id)
        app.delivery.renderer.digest(session, person, app.delivery.renderer.reader(person, "telegram"))


def sweep(app, counter: Counter, person_id: int) -> tuple[int, int, int]:
    """Statements for the scheduler to turn 1 000 due reminders into notices."""
    now = to_db(NOW)
    with app.store.engine.begin() as conn:
        task_ids = conn.execute(insert(Task.__table__).returning(Task.__table__.c.id), [
            {"title": f"Due {k}", "description": "", "creator_id": person_id, "assignee_id": person_id,
             "due_at": now - timedelta(minutes=1), "status": "open", "column": "todo", "created_at": now,
             "updated_at": now} for k in range(SWEEP_DUE)]).scalars().all()
        conn.execute(insert(Reminder.__table__), [
            {"task_id": t, "person_id": person_id, "kind": "at_due", "due_at": now - timedelta(minutes=1),
             "status": "pending"} for t in task_ids])
    with counter.counting():
        while reminders.tick(app.store, NOW):
            pass
    return counter.statements, counter.commits, counter.cards


def delivery(app, counter: Counter, person_id: int) -> tuple[int, int, int]:
    """Statements to deliver DELIVERY_N pending notices (reminders of open tasks)."""
    asyncio.run(app.delivery.drain())  # what earlier actions queued
    with app.store.session() as session:
        task_ids = session.exec(select(Task.id).where(Task.assignee_id == person_id).limit(DELIVERY_N)).all()
    now = to_db(NOW)
    with app.store.engine.begin() as conn:
        conn.execute(insert(Outbox.__table__), [
            {"key": f"bench:{t}", "recipient_id": person_id, "template": "reminder", "task_id": t,
             "context": {"kind": "at_due", "late": False}, "status": "pending", "attempts": 0,
             "available_at": now, "created_at": now} for t in task_ids])
    with counter.counting():
        asyncio.run(app.delivery.drain())
    return counter.statements, counter.commits, counter.cards


def digest_tick(app, counter: Counter) -> tuple[int, int, int]:
    """Statements for the morning tick to queue everyone's digest."""
    with app.store.engine.begin() as conn:
        conn.execute(Person.__table__.update().values(last_digest_on=None))
    with counter.counting():
        digest.tick(app.store, app.defaults, NOW + timedelta(hours=1))
    return counter.statements, counter.commits, counter.cards


# ----- /task through Chat.handle against its writes in one Core transaction ----------------------

def core_floor(app, olga: int, pavel: int, maria: int) -> float:
    """/task's rows (task, event, watcher, reminders, notices) in one Core transaction each: per second."""
    task, event_, watcher = Task.__table__, TaskEvent.__table__, TaskWatcher.__table__
    reminder, outbox = Reminder.__table__, Outbox.__table__
    now, due = to_db(NOW), to_db(NOW + timedelta(days=1))
    start = time.perf_counter()
    for n in range(N_RATE):
        with app.store.engine.begin() as conn:
            task_id = conn.execute(insert(task).returning(task.c.id), {
                "title": f"Prepare model {n}", "description": "", "creator_id": olga, "assignee_id": pavel,
                "due_at": due, "status": "open", "column": "todo", "created_at": now, "updated_at": now}).scalar()
            conn.execute(insert(watcher), {"task_id": task_id, "person_id": maria})
            event_id = conn.execute(insert(event_).returning(event_.c.id), {
                "task_id": task_id, "actor_id": olga, "kind": "created", "at": now,
                "data": {"title": f"Prepare model {n}", "assignee_id": pavel, "watchers": [maria]}}).scalar()
            conn.execute(insert(outbox), [
                {"key": f"event:{event_id}:{p}", "recipient_id": p, "template": "task_event", "task_id": task_id,
                 "context": {"event_id": event_id}, "status": "pending", "attempts": 0, "available_at": now,
                 "created_at": now} for p in (pavel, maria)])
            conn.execute(insert(reminder), [
                {"task_id": task_id, "person_id": pavel, "kind": kind, "due_at": due - offset, "status": "pending"}
                for kind, offset in (("before:3600", timedelta(hours=1)), ("at_due", timedelta(0)))])
    return N_RATE / (time.perf_counter() - start)


def chat_rate(app, olga: int) -> float:
    """/task through Chat.handle: per second."""
    start = time.perf_counter()
    for n in range(N_RATE):
        app.chat.handle(olga, TASK_TEXT.format(n=n), "telegram")
    return N_RATE / (time.perf_counter() - start)


def rates(directory: Path) -> tuple[float, float]:
    """(Chat.handle rate, Core floor rate), taken in turns, best of three each."""
    app = app_in(directory, "rate.db")
    who = ids(app)
    chat_rate(app, who["olga"])  # warm-up
    core_floor(app, who["olga"], who["pavel"], who["maria"])
    chat, floor = [], []
    for _ in range(3):
        chat.append(chat_rate(app, who["olga"]))
        floor.append(core_floor(app, who["olga"], who["pavel"], who["maria"]))
    app.store.engine.dispose()
    return max(chat), max(floor)


GOALS = {  # action -> (the most statements, the most commits, the most card renders); None: no goal
    "/task": (10, 1, None), "/task via the inbox": (None, None, None), "Done tap": (15, None, 1), "Approve tap": (25, None, None),
    "Reject (reason typed)": (25, None, None), "Got it tap (completes)": (30, None, None),
    "Done tap (work step)": (25, None, None),
    "/approvals (10 waiting)": (12, None, None), "/approvals (100 waiting)": (12, None, None),
    "/tasks (10 tasks)": (12, None, None), "/tasks (100 tasks)": (12, None, None),
    "/board (10 tasks)": (12, None, None), "/board (100 tasks)": (12, None, None),
    "digest (one, rendered)": (25, None, None), "digest tick (all due)": (None, None, None),
    "sweep (1 000 due)": (20, None, None), f"delivery ({DELIVERY_N} notices)": (6 * DELIVERY_N, None, None),
}


def main() -> list[Result]:
    print("== statements: SQL statements and commits per action (demo org, SQLite file) ==")
    with tempfile.TemporaryDirectory() as tmp:
        found = count_actions(Path(tmp))
        chat, floor = rates(Path(tmp))
    results = []
    for name, (statements, commits, cards) in found.items():
        most, most_commits, most_cards = GOALS[name]
        goal = " ".join(filter(None, (
            f"<= {most} statements" if most is not None else "", f"{most_commits} commit" if most_commits else "",
            f"card rendered {most_cards}x" if most_cards else ""))) or "(context, no goal)"
        ok = None if most is None else (statements <= most and (most_commits is None or commits <= most_commits)
                                        and (most_cards is None or cards <= most_cards))
        per = f"; {statements / DELIVERY_N:.1f} per notice" if name.startswith("delivery") else ""
        print(f"  {name:<28} {statements:5d} statements  {commits:3d} commits  {cards} cards rendered{per}")
        results.append(Result(f"statements {name}", f"{statements} stmts, {commits} commits, {cards} cards",
                              "-", goal, ok, per.lstrip("; ")))
        results[-1].print_goal()
    ratio = chat / floor
    print(f"  /task through Chat.handle: {chat:7.1f} /s   baseline: its writes in one Core transaction "
          f"{floor:7.1f} /s   ratio {100 * ratio:.1f}%")
    results.append(Result("/task vs Core floor", f"{chat:.0f} /task/s", f"{floor:.0f} /s Core writes",
                          "Chat.handle >= 30% of floor", ratio >= 0.3, f"{100 * ratio:.1f}%"))
    results[-1].print_goal()
    return results


if __name__ == "__main__":
    main()
