"""Whole conversations through the console chat, as tables of turns."""
from __future__ import annotations

import pytest

from tests.dialog import Dialog, Turn


@pytest.fixture
def dialog(app, messenger):
    return Dialog(app, messenger)


def test_two_people_live_a_task_from_creation_to_reopening(dialog):
    """The foundation's "done when": every step, both sides, nothing lost."""
    dialog.play([
        Turn("olga", "/task Prepare the 3D model @pavel by завтра в 15:00",
             sees={"olga": ["Task #1 created.", "#1 Prepare the 3D model", "Pavel Smirnov", "1 Dec, 15:00"],
                   "pavel": ["#1 Prepare the 3D model", "Olga Reshetova", "1 дек., 15:00"]}),
        Turn("pavel", "/tasks", sees={"pavel": ["#1 Prepare the 3D model", "1 дек., 15:00", "] #1 Готово"]}),
        Turn("olga", "/tasks created", sees={"olga": ["#1 Prepare the 3D model"]}),
        Turn("olga", "/board", sees={"olga": ["To do (1)", "#1 Prepare the 3D model", "Done recently (0)"]}),
        Turn("pavel", "/board", sees={"pavel": ["К выполнению (1)", "#1 Prepare the 3D model"]}),
        Turn("pavel", "reply #1 Scans are blurry, asking the clinic again",
             sees={"pavel": ["#1"], "olga": ["Scans are blurry, asking the clinic again"]}),
        Turn("olga", "reply #1 Thanks, keep me posted", sees={"olga": ["Comments: 2"], "pavel": ["Thanks, keep me posted"]}),
        Turn("pavel", "/snooze 1 через 2 часа", sees={"pavel": ["#1"], "olga": ["snoozed it until 30 Nov, 12:00"]}),
        Turn("pavel", "/done 1", sees={"pavel": ["#1"], "olga": ["closed it", "Status: done"]}),
        Turn("olga", "/tasks created", sees={"olga": ["No open tasks here"]}),
        Turn("olga", "/board", sees={"olga": ["Done recently (1)"]}),
        Turn("olga", "/reopen 1", sees={"olga": ["Task #1 is open again."], "pavel": ["#1"]}),
        Turn("olga", "/show 1", sees={"olga": [
            "Comments: 2", "History:", "created the task, assigned to Pavel Smirnov, due 1 Dec, 15:00",
            "«Scans are blurry, asking the clinic again»", "«Thanks, keep me posted»",
            "snoozed it until 30 Nov, 12:00", "closed it", "reopened it",
        ]}),
    ])


def test_buttons_are_tapped_by_number_and_ask_for_what_they_need(dialog):
    screens = dialog.say("olga", "/task Order aligner trays by friday")
    assert "[1] Done" in screens["olga"] and "[2] Take it" in screens["olga"]
    assert "[5] Tomorrow 9:00" in screens["olga"]
    dialog.play([
        Turn("olga", "3", sees={"olga": ["Type your comment for #1"]}),
        Turn("olga", "Ask Maria about the budget", sees={"olga": ["Comment added to #1.", "Comments: 1"]}),
        Turn("olga", "2", sees={"olga": ["Task #1 is yours now.", "Status: in progress"]}),
        Turn("olga", "1", sees={"olga": ["Task #1 is done.", "Status: done"]}),
    ])


def test_a_button_on_someone_elses_screen_is_not_tapped_for_them(dialog):
    dialog.say("olga", "/task Sign the lease @anna by friday")
    anna_sees = dialog.console.type("/as anna")
    assert "Anna" in anna_sees
    olga_done_button = 1
    screen = dialog.console.type(str(olga_done_button))
    assert "olga" in screen  # "switch with /as olga", in Anna's language
    dialog.play([Turn("anna", "/tasks", sees={"anna": ["#1 Sign the lease"]})])


@pytest.mark.parametrize("typed, answer", [
    ("/frobnicate", "I don't know /frobnicate. Type /help"),
    ("hello there", "I work with commands"),
    ("/task", "A task needs a title"),
    ("/task Pay the rent @nobody_here", "I don't know @nobody_here"),
    ("/task Pay the rent by the time it rains", "I can't read \"the time it rains\" as a time"),
    ("/task " + "x" * 10_000, "characters long"),
    ("/task " + "y" * 201, "keep it under 200"),
    ("/done 999", "Task #999 doesn't exist or isn't shared with you"),
    ("/done abc", "Give the task number"),
    ("/done", "Give the task number"),
    ("/due 1 yesterday", "is in the past"),
    ("/tasks everything", "I can list: mine, created, watching, overdue, all"),
    ("/comment 1", "The comment is empty"),
    ("/attach 1 not-a-link", "doesn't look like a link"),
    ("/link 1 1", "can't be linked to itself"),
    ("/settings tz Mars/Base", "I don't know the time zone"),
    ("/settings lang de", "Try: /settings tz"),
    ("/assign 1 @ghost", "I don't know @ghost"),
    ("77", "There is no button 77"),
])
def test_bad_input_gets_a_clear_answer_and_changes_nothing(dialog, app, typed, answer):
    dialog.say("olga", "/task Existing task")
    before = _snapshot(app)
    screens = dialog.say("olga", typed)
    assert answer in screens["olga"]
    assert set(screens) == {"olga"}
    assert _snapshot(app) == before


def test_someone_who_may_not_touch_a_task_is_refused_and_nothing_changes(dialog, app):
    dialog.say("olga", "/task Budget review @ivan by friday")
    before = _snapshot(app)
    dialog.play([
        # Maria is neither creator, assignee, watcher, admin nor their manager.
        Turn("maria", "/done 1", sees={"maria": ["#1"]}, not_sees={"maria": ["Budget review"]}),
        Turn("maria", "/show 1", sees={"maria": ["#1"]}, not_sees={"maria": ["Budget review"]}),
        Turn("maria", "reply #1 sneaky", sees={"maria": ["#1"]}),
    ])
    assert _snapshot(app) == before
    # A watcher sees the task but may not close it.
    dialog.say("olga", "/task Contract draft @anna @maria by friday")
    screens = dialog.say("maria", "/done 2")
    assert "#2" in screens["maria"] and "Contract draft" not in screens["maria"].split("\n")[0]
    assert _snapshot(app)["tasks"][1][1] == "open"


def test_refusals_speak_the_readers_language(dialog):
    assert dialog.say("pavel", "/frobnicate")["pavel"] == "Не знаю команды /frobnicate. Напишите /help — покажу, что я умею."
    screen = dialog.say("pavel", "/task Купить фрезы до послезавтра около обеда может быть")["pavel"]
    assert "Не получилось понять время «послезавтра около обеда может быть»" in screen
    assert "«завтра в 15:00»" in screen  # an example of what works
    assert dialog.say("olga", "/frobnicate")["olga"].startswith("I don't know /frobnicate.")


def test_settings_change_language_and_zone(dialog):
    dialog.play([
        Turn("pavel", "/settings lang en tz America/New_York",
             sees={"pavel": ["Your settings: language en, time zone America/New_York."]}),
        Turn("pavel", "/task Call the lab tomorrow by tomorrow 9:00", sees={"pavel": ["1 Dec, 09:00"]}),
        Turn("olga", "/task Check #1 @pavel by tomorrow 9:00", sees={"olga": ["1 Dec, 09:00"], "pavel": ["1 Dec, 01:00"]}),
    ])


def test_assign_watch_attach_and_link(dialog):
    dialog.say("olga", "/task Aligner batch 17 @pavel by friday")
    dialog.say("olga", "/task Invoice for batch 17 by friday")
    dialog.play([
        Turn("olga", "/assign 2 @maria", sees={"olga": ["Task #2 is now Maria Sokolova's."], "maria": ["#2"]}),
        Turn("olga", "/link 1 2", sees={"olga": ["#1 and #2 are linked.", "Links: 1"], "pavel": ["#2"], "maria": ["#1"]}),
        Turn("ivan", "/watch 1", sees={"ivan": ["#1"], "olga": ["Ivan Petrov"], "pavel": ["Ivan Petrov"]}),
        Turn("pavel", "/attach 1 https://files.example.com/scan-17.stl",
             sees={"pavel": ["#1"], "olga": ["https://files.example.com/scan-17.stl"], "ivan": ["scan-17.stl"]}),
        Turn("ivan", "/tasks watching", sees={"ivan": ["#1 Aligner batch 17"]}),
        Turn("olga", "#2", sees={"olga": ["#2 Invoice for batch 17", "History:"]}),
    ])


def _snapshot(app) -> dict:
    """Everything a refused command must leave untouched."""
    from sqlmodel import select

    from core.domain.models import Attachment, Comment, Outbox, Person, Task, TaskEvent, TaskLink, TaskWatcher

    with app.store.session() as session:
        return {
            "tasks": [(t.id, t.status, t.assignee_id, t.due_at, t.snoozed_until, t.title) for t in session.exec(select(Task))],
            "events": len(session.exec(select(TaskEvent)).all()),
            "comments": len(session.exec(select(Comment)).all()),
            "attachments": len(session.exec(select(Attachment)).all()),
            "links": len(session.exec(select(TaskLink)).all()),
            "watchers": len(session.exec(select(TaskWatcher)).all()),
            "outbox": len(session.exec(select(Outbox)).all()),
            "people": [(p.handle, p.language, p.timezone) for p in session.exec(select(Person))],
        }


def test_half_an_emoji_is_read_as_a_replacement_character_and_answered(dialog, app):
    """A lone UTF-16 surrogate (half an emoji, as JSON may carry it) cannot be stored or sent: it is read as �."""
    from core.domain.models import Task

    dialog.play([
        Turn("olga", "/task half \ud83d pair", sees={"olga": ["Task #1 created.", "#1 half \ufffd pair"]}),
        Turn("olga", "reply #1 the other \ude00 half", sees={"olga": ["Comment added to #1."]}),
        Turn("olga", "/form payment_request", sees={"olga": ["(1/7) Payee"]}),
        Turn("olga", "Acme \ud83d", sees={"olga": ["(2/7) Amount"]}),
    ])
    with app.store.session() as session:
        assert session.get(Task, 1).title == "half \ufffd pair"
