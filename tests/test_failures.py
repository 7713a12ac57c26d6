"""An update whose handling raises never ends the process: the person hears that nothing was
changed, in their language; the error is logged with the update; the next update is handled.

A bug is planted in a core function the command calls; each platform catches it at its own
door (aiogram's errors observer, bolt's error handler, the console's line loop).
"""
from __future__ import annotations

import logging

from adapters.console.session import ConsoleSession
from core.services import queries, reminders
from tests.slack_harness import SlackHarness
from tests.telegram_harness import TelegramHarness

SORRY_EN = "something went wrong on my side and nothing was changed"
SORRY_RU = "что-то пошло не так, ничего не изменилось"


def plant_bug(monkeypatch, module, name: str) -> None:
    def broken(*_args, **_kw):
        raise RuntimeError("planted bug")
    monkeypatch.setattr(module, name, broken)


def test_the_console_answers_a_failed_line_and_goes_on(app, monkeypatch, caplog):
    session = ConsoleSession(app, "pavel")
    plant_bug(monkeypatch, queries, "list_tasks")
    with caplog.at_level(logging.ERROR):
        assert SORRY_RU in session.type("/tasks").lower()  # Pavel reads Russian
    assert "/tasks" in caplog.text and "planted bug" in caplog.text
    monkeypatch.undo()
    assert "Задача #1 создана" in session.type("/task Still works")


async def test_telegram_answers_a_failed_command_and_a_failed_tap(sqlite_store, clock, monkeypatch, caplog):
    async with TelegramHarness(sqlite_store, clock) as tg:
        await tg.private("olga", "/task Check the scans")
        card = tg.last("olga")
        plant_bug(monkeypatch, queries, "list_tasks")
        plant_bug(monkeypatch, reminders, "reschedule")  # what closing a task calls
        with caplog.at_level(logging.ERROR):
            await tg.private("olga", "/tasks")
            assert SORRY_EN in tg.last("olga")["text"].lower()
            await tg.tap("olga", card, tg.buttons(card)["Done"])
        alert = tg.answers()[-1]
        assert alert["show_alert"] and SORRY_EN in alert["text"].lower()
        assert '"text":"/tasks"' in caplog.text and "planted bug" in caplog.text
        monkeypatch.undo()
        await tg.private("olga", "/done 1")
        assert "Task #1 is done." in tg.last("olga")["text"]


async def test_slack_answers_a_failed_command_and_goes_on(sqlite_store, clock, monkeypatch, caplog):
    async with SlackHarness(sqlite_store, clock) as slack:
        plant_bug(monkeypatch, queries, "list_tasks")
        with caplog.at_level(logging.ERROR):
            reply = await slack.command("pavel", "/tasks")
        assert reply.status == 200
        assert SORRY_RU in slack.responses()[-1]["text"].lower()
        assert slack.responses()[-1]["response_type"] == "ephemeral"
        assert '"command": "/tasks"' in caplog.text and "planted bug" in caplog.text
        monkeypatch.undo()
        assert (await slack.command("pavel", "/task Still works")).status == 200
        assert "Still works" in slack.text(slack.last("C0GENERAL01"))


def test_the_apology_needs_no_store(app, monkeypatch):
    """When the store itself is what failed, the apology is still said, in the org's language."""
    def gone(*_a, **_kw):
        raise OSError("database is gone")
    monkeypatch.setattr(app.store, "session", gone)
    monkeypatch.setattr(app.store, "read", gone)
    assert SORRY_EN in app.chat.trouble(1, "en").text.lower()
    assert SORRY_RU in app.chat.trouble(telegram_id=5, language="ru").text.lower()


async def test_slack_answers_a_failed_middleware_with_a_200_and_the_apology(sqlite_store, clock, monkeypatch,
                                                                            caplog):
    """A failure before any listener (the member lookup): bolt's error handler turns its 500 into the apology."""
    from adapters.slack import middleware

    async with SlackHarness(sqlite_store, clock) as slack:
        async def broken(*_args, **_kw):
            raise RuntimeError("planted bug")
        monkeypatch.setattr(middleware, "resolve", broken)
        with caplog.at_level(logging.ERROR):
            reply = await slack.command("olga", "/tasks")
        assert reply.status == 200 and reply.json()["response_type"] == "ephemeral"
        text = reply.json()["text"].lower()
        assert SORRY_EN in text or SORRY_RU in text
        assert "planted bug" in caplog.text
        monkeypatch.undo()
        assert (await slack.command("olga", "/task Still works")).status == 200
        assert "Still works" in slack.text(slack.last("C0GENERAL01"))
