"""Announcements: posted to every channel, answered live on every copy, closed by the author."""
from __future__ import annotations


import pytest

from adapters.console.messenger import ConsoleMessenger
from bot.app import add_messenger
from core.infra import scheduler
from tests.dialog import Dialog, Turn
from tests.telegram_harness import GROUP, TelegramHarness

CHANNEL = "#announcements"  # the console's channel; channels speak the org's language (Russian here)


@pytest.fixture
def dialog(app, messenger):
    return Dialog(app, messenger)


def test_an_announcement_is_answered_live_and_closed_by_its_author(dialog):
    dialog.play([
        Turn("olga", "/announce Pizza in the kitchen at 13:00, who's in?",
             sees={"olga": ["Announcement #1 is posted to 1 channel(s)."],
                   CHANNEL: ["Pizza in the kitchen at 13:00, who's in?", "— Olga Reshetova", "Я иду (0)"]}),
        Turn("pavel", "/rsvp 1 in", sees={"pavel": ["#1"], CHANNEL: ["Я иду (1): Pavel Smirnov"]}),
        Turn("maria", "/rsvp 1 out", sees={"maria": ["#1"], CHANNEL: ["Я иду (1): Pavel Smirnov",
                                                                      "Не смогу (1): Maria Sokolova"]}),
        Turn("maria", "/rsvp 1 in", sees={"maria": ["#1"], CHANNEL: ["Я иду (2): Maria Sokolova, Pavel Smirnov",
                                                                     "Не смогу (0)"]}),
        Turn("maria", "/rsvp 1 in", sees={"maria": ["#1"]}),  # the same answer twice redraws nothing
        Turn("ivan", "/announce close 1", sees={"ivan": ["#1"]}),  # not the author, not an admin
        Turn("olga", "/announce close 1", sees={"olga": ["Announcement #1 is closed."],
                                                CHANNEL: ["Закрыто: ответы окончательные.", "Я иду (2)"]}),
        Turn("pavel", "/rsvp 1 out", sees={"pavel": ["#1"]}),
    ])


def test_the_copies_carry_rsvp_buttons_until_closed(app, messenger):
    import asyncio

    from sqlmodel import select

    from core.services.commands import CloseAnnouncement, Rsvp
    from core.domain.models import Person

    with app.store.session() as session:
        olga = session.exec(select(Person).where(Person.handle == "olga")).one()
    app.chat.handle(olga.id, "/announce Team lunch on friday?")
    asyncio.run(app.delivery.drain())
    posted = messenger.inbox[CHANNEL][-1]
    assert [b.command for row in posted.buttons for b in row] == [Rsvp(1, "in"), Rsvp(1, "out"), CloseAnnouncement(1)]
    app.chat.handle(olga.id, "/announce close 1")
    asyncio.run(app.delivery.drain())
    final = messenger.inbox[CHANNEL][-1]
    assert final.buttons == [] and "Закрыто" in final.text


def test_a_scheduled_announcement_posts_at_its_time(dialog, app, clock):
    dialog.play([
        Turn("olga", "/announce Standup moved to the big room at tomorrow 9:30",
             sees={"olga": ["Announcement #1 will be posted on 1 Dec, 09:30."]}),
        Turn("olga", "/rsvp 1 in", sees={"olga": ["Announcement #1 doesn't exist."]}),  # not posted yet
    ])
    clock.advance(hours=23)
    scheduler.tick(app)
    assert dialog.say("olga", "/tasks").keys() == {"olga"}  # 9:00 tomorrow: not yet
    clock.advance(minutes=31)
    scheduler.tick(app)
    screens = dialog.say("olga", "/tasks")
    assert "Standup moved to the big room" in screens[CHANNEL]


@pytest.mark.parametrize("typed, answer", [
    ("/announce", "What should I announce?"),
    ("/announce " + "x" * 3001, "keep it under 3000"),
    ("/rsvp 1 maybe", "Answer with in or out"),
    ("/rsvp 99 in", "Announcement #99 doesn't exist."),
    ("/announce close 99", "Announcement #99 doesn't exist."),
])
def test_bad_announcement_input_is_refused(dialog, typed, answer):
    screens = dialog.say("olga", typed)
    assert answer in screens["olga"] and set(screens) == {"olga"}


def test_quotes_keep_a_time_in_the_text(dialog):
    screens = dialog.say("olga", '/announce "Pizza at 13:00"')
    assert "Pizza at 13:00" in screens[CHANNEL]


def test_without_channels_the_author_is_told_how_to_add_one(sqlite_store, clock):
    from tests.conftest import make_app
    from tests.test_outbox import FlakyMessenger

    app = make_app(sqlite_store, FlakyMessenger(), clock)
    from sqlmodel import select

    from core.domain.models import Person

    with app.store.session() as session:
        olga = session.exec(select(Person).where(Person.handle == "olga")).one()
    assert "no announcement channel yet" in app.chat.handle(olga.id, "/announce Hello").text


async def test_answers_from_two_platforms_update_every_copy(sqlite_store, clock):
    """The team group on Telegram and the console channel: both copies show both answers."""
    async with TelegramHarness(sqlite_store, clock) as tg:
        console = ConsoleMessenger()
        add_messenger(tg.app, console)
        assert sorted(tg.app.chat.platforms.channels) == [("console", "announcements"), ("telegram", str(GROUP))]
        await tg.group("olga", "/announce Pizza in the kitchen at 13:00, who's in?")
        await tg.deliver()
        post = tg.last(GROUP)
        assert "Pizza in the kitchen" in post["text"] and "Я иду" in tg.buttons(post)  # the org's language
        await tg.tap("pavel", post, tg.buttons(post)["Я иду"])
        assert "#1" in tg.answers()[-1]["text"]
        from sqlmodel import select

        from core.domain.models import Person

        with tg.app.store.session() as session:
            maria = session.exec(select(Person).where(Person.handle == "maria")).one()
        tg.app.chat.handle(maria.id, "/rsvp 1 out", "console")
        await tg.deliver()
        on_telegram = tg.fake.message(GROUP, post["message_id"])["text"]
        on_console = console.inbox["#announcements"][-1].text
        for copy in (on_telegram, on_console):
            assert "Pavel Smirnov" in copy and "Maria Sokolova" in copy
        await tg.tap("olga", post, tg.buttons(post)["Закрыть"])
        await tg.deliver()
        final = tg.fake.message(GROUP, post["message_id"])
        assert "Закрыто" in final["text"] and tg.buttons(final) == {}
