"""Time-driven features with a fixed clock: repeats, the morning digest, birthdays."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from core.domain.models import Outbox, Person, Task
from core.infra import scheduler
from tests.dialog import Dialog, Turn

MSK = timezone.utc  # times below are written in UTC; Moscow is UTC+3


@pytest.fixture
def dialog(app, messenger):
    return Dialog(app, messenger)


def person(app, handle: str) -> Person:
    with app.store.session() as session:
        return session.exec(select(Person).where(Person.handle == handle)).one()


def outbox(app, template: str) -> list[Outbox]:
    with app.store.session() as session:
        return list(session.exec(select(Outbox).where(Outbox.template == template).order_by(Outbox.id)))


def test_a_weekly_task_rolls_forward_when_its_time_comes(dialog, app, clock):
    # Monday 30 Nov, 10:00 Moscow: "every monday 10:00" means next Monday.
    dialog.play([Turn("olga", "/task Weekly report @pavel every monday 10:00",
                      sees={"olga": ["Task #1 created; it repeats (repetition #1).", "Due: 7 Dec, 10:00"],
                            "pavel": ["Weekly report"]})])
    clock.now = datetime(2026, 12, 7, 7, 0, 1, tzinfo=MSK)  # Monday 7 Dec, 10:00:01 Moscow
    scheduler.tick(app)
    with app.store.session() as session:
        titles = [(t.id, t.due_at) for t in session.exec(select(Task).order_by(Task.id))]
    assert titles == [(1, datetime(2026, 12, 7, 7, 0, tzinfo=MSK)), (2, datetime(2026, 12, 14, 7, 0, tzinfo=MSK))]
    scheduler.tick(app)  # the same occurrence never makes a second instance
    with app.store.session() as session:
        assert len(session.exec(select(Task)).all()) == 2
    dialog.play([
        Turn("olga", "/recurring", sees={"olga": ["#1 Weekly report", "14 Dec, 10:00"],
                                         "pavel": ["Срок наступил.", "#2 Weekly report"]}),
        Turn("pavel", "/recurring stop 1", sees={"pavel": ["#1"]}),  # not his to stop
        Turn("olga", "/recurring stop 1", sees={"olga": ["Repetition #1 stopped."]}),
    ])
    clock.now = datetime(2026, 12, 14, 7, 0, 1, tzinfo=MSK)
    scheduler.tick(app)
    with app.store.session() as session:
        assert len(session.exec(select(Task)).all()) == 2


@pytest.mark.parametrize("typed, due", [
    ("/task Stand-up notes every day 9:00", "1 Dec, 09:00"),
    ("/task Timesheet every weekday 18:00", "30 Nov, 18:00"),
    ("/task Plan каждую пятницу в 11:00", "4 Dec, 11:00"),
    ("/task Backups every monday and thursday 10:30", "30 Nov, 10:30"),
])
def test_repeat_rules_in_both_languages(dialog, typed, due):
    assert f"Due: {due}" in dialog.say("olga", typed)["olga"]


@pytest.mark.parametrize("typed, answer", [
    ("/task Report every blue moon", "I can't read \"blue moon\" as a repetition"),
    ("/task Report by friday every monday", "drop the \"by …\" part"),
    ("/recurring stop 9", "Repetition #9 doesn't exist."),
])
def test_bad_repeats_are_refused(dialog, app, typed, answer):
    screens = dialog.say("olga", typed)
    assert answer in screens["olga"]
    with app.store.session() as session:
        assert session.exec(select(Task)).all() == []


def test_the_morning_digest_comes_at_nine_in_each_zone_once_and_not_when_empty(dialog, app, clock, messenger):
    dialog.say("olga", "/settings tz America/New_York")
    dialog.say("ivan", "/task Prepare the 3D model @pavel by friday")
    dialog.say("ivan", "/task Budget @olga by friday")
    clock.now = datetime(2026, 12, 1, 5, 59, tzinfo=MSK)  # 8:59 in Moscow
    scheduler.tick(app)
    assert outbox(app, "digest") == []
    clock.now = datetime(2026, 12, 1, 6, 0, tzinfo=MSK)  # 9:00 in Moscow, 1:00 in New York
    scheduler.tick(app)
    scheduler.tick(app)
    assert [row.recipient_id for row in outbox(app, "digest")] == [person(app, "pavel").id]  # ivan has nothing
    clock.now = datetime(2026, 12, 1, 14, 0, tzinfo=MSK)  # 9:00 in New York
    scheduler.tick(app)
    assert [row.recipient_id for row in outbox(app, "digest")] == [person(app, "pavel").id, person(app, "olga").id]
    asyncio.run(app.delivery.drain())
    olga_sees = "\n".join(m.text for m in messenger.take("olga"))
    assert "Good morning, Olga Reshetova! Your open tasks: 1, overdue: 0." in olga_sees and "#2 Budget" in olga_sees
    assert "Prepare the 3D model" in "\n".join(m.text for m in messenger.take("pavel"))


def test_a_morning_the_bot_slept_through_is_skipped_not_sent_at_night(dialog, app, clock):
    dialog.say("ivan", "/task Prepare the 3D model @pavel by friday")
    clock.now = datetime(2026, 12, 1, 15, 0, tzinfo=MSK)  # 18:00 in Moscow: the bot was down all morning
    scheduler.tick(app)
    assert outbox(app, "digest") == []
    clock.now = datetime(2026, 12, 2, 6, 5, tzinfo=MSK)
    scheduler.tick(app)
    assert len(outbox(app, "digest")) == 1


def test_a_birthday_is_announced_once_on_the_day(dialog, app, clock, messenger):
    with app.store.session() as session:
        session.exec(select(Person).where(Person.handle == "maria")).one().birthday = date(1991, 12, 1)
    clock.now = datetime(2026, 12, 1, 5, 0, tzinfo=MSK)  # 8:00 in Moscow
    scheduler.tick(app)
    clock.now = datetime(2026, 12, 1, 6, 30, tzinfo=MSK)
    scheduler.tick(app)
    scheduler.tick(app)
    asyncio.run(app.delivery.drain())
    posts = messenger.inbox["#announcements"]
    assert len(posts) == 1 and "Maria Sokolova" in posts[0].text and posts[0].buttons == []


def test_the_digest_lists_the_approvals_waiting_for_me(app, clock, messenger):
    from tests.forms_desk import Desk

    desk = Desk(app, clock)
    task_id = desk.start("pavel", "overtime", date="2026-11-29", hours=2, project="X", reason="Y")
    assert desk.waiting(task_id) == ["Olga Reshetova"]  # Pavel's manager decides first
    manager = "olga"
    clock.now = datetime(2026, 12, 1, 6, 0, tzinfo=MSK)  # 9:00 in Moscow
    scheduler.tick(app)
    asyncio.run(app.delivery.drain())
    digests = [m.text for m in messenger.inbox.get(manager, []) if m.kind == "digest"]
    assert len(digests) == 1 and f"#{task_id}" in digests[0]
