"""Dialog scenarios that run on every platform: one table of turns, a driver per platform.

A scenario is written once against `Driver` and run on each platform by a
parametrised `driver` fixture (tests/conftest.py):

    driver.fill("olga", "/form leave_request", [("kind", "vacation"), ("dates", "14.12–24.12"),
                                                ("substitute", "@pavel"), ("comment", "/skip")],
                sees={"olga": ["Request #1 is sent."], "ivan": ["Согласование руководителя"]})
    driver.play([
        Turn("ivan", Tap("Согласовать"), sees={"ivan": ["Вы согласовали #1."], "olga": ["approved"],
                                                "anna": ["Отдел кадров"]}),
    ])

`Turn` is tests/dialog.py's; its `says` may be typed text or one of the
actions below (a tap, a file, a reply to a card, time passing). After every
turn the outbox is delivered, and each person's screen is what reached them
during the turn, as plain text. The checks are tests/dialog.py's: each named
person sees each substring, never the `not_sees` ones, and nobody unnamed
hears anything.

Drivers:
- `ConsoleDriver`: tests/dialog.py's `Dialog` (adapters/console, the real outbox).
- `TelegramDriver`: tests/telegram_harness.py — real update JSON through the
  real aiogram dispatcher against the fake Bot API on loopback. Everyone has
  sent /start in private first; commands are typed in the person's private
  chat; a screen is the text of the messages the fake recorded to that chat
  during the turn (HTML already parsed to plain text by the fake), plus, for
  the person who tapped, the toast and the tapped card as redrawn.
- A Slack driver implements the same six platform methods (say, tap, reply,
  send_file, tick, buttons) and gets `fill`, `play` and the checks from `Driver`.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import pytest
from sqlmodel import select

from adapters.console.session import ConsoleSession
from core.domain.models import FormDraft, Person
from core.forms import automation
from core.infra import scheduler
from core.infra.outbox import DeliveryError
from core.services import commands
from tests.dialog import Dialog, Turn

Screens = dict[str, str]
CHANNEL = "#announcements"  # the screen key of the team's announcement channel, on every platform
# Everyone in the demo org (bot/demo/org.yaml).
PEOPLE = ("ivan", "olga", "maria", "pavel", "anna", "kate")


# ----- what a turn may do besides typing ------------------------------------


@dataclass(frozen=True)
class Tap:
    """Tap the button with this label on the latest message the person received that has it."""

    label: str


@dataclass(frozen=True)
class File:
    """Send a file: as a reply to the card of `task` (attached to it), or, without a task, into the chat
    (answering the file field of a form being filled)."""

    name: str
    task: int | None = None


@dataclass(frozen=True)
class Reply:
    """Reply to the card of a task with text (a comment)."""

    task: int
    text: str


@dataclass(frozen=True)
class Wait:
    """Time passes: the clock moves, the scheduler's due work and the bot calls run, the outbox delivers."""

    minutes: float = 0
    hours: float = 0
    days: float = 0


Says = str | Tap | File | Reply | Wait
Answer = str | File  # a field's answer in `fill`: typed text, or a file


# Questions asked one by one in chat: on Slack a form (or a step's fields) is one modal, whose errors,
# follow-up views and kept values tests/test_slack_forms.py covers; the `driver` fixture skips these there.
CHAT_ONLY = pytest.mark.chat_only(not_on=("slack",))


def known_bug(reason: str):
    """The test is written as the product should behave and fails on an assertion because of `reason`.
    Strict: a fix makes it pass, and so fail, until the mark goes; any other error fails it at once."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def xfail_on(request, driver: "Driver", platforms: Iterable[str], reason: str) -> None:
    """`known_bug` on these platforms only (call it first thing in the test)."""
    if driver.platform in platforms:
        request.applymarker(known_bug(reason))


def normalise(text: str) -> str:
    """One spelling for every platform: non-breaking and narrow spaces as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ").strip()


# ----- the interface ----------------------------------------------------------


class Driver:
    """One platform, driven as its people would use it. Subclasses implement the platform methods."""

    platform: str
    app: Any
    clock: Any

    # -- platform methods -------------------------------------------------------

    def say(self, who: str, text: str) -> Screens:
        """`who` types `text` in their own chat with the bot; returns what each person saw."""
        raise NotImplementedError

    def tap(self, who: str, label: str) -> Screens:
        """`who` taps the button labelled `label` on the latest message they received that has it."""
        raise NotImplementedError

    def reply(self, who: str, task_id: int, text: str) -> Screens:
        """`who` replies to the card of task `task_id` (the latest one they received) with text."""
        raise NotImplementedError

    def send_file(self, who: str, name: str, task_id: int | None = None) -> Screens:
        """`who` sends a file named `name`: as a reply to the card of `task_id`, or into the chat."""
        raise NotImplementedError

    def tick(self, *, minutes: float = 0, hours: float = 0, days: float = 0) -> Screens:
        """Time passes: move the FakeClock, run the scheduler's tick and the due bot calls, deliver."""
        raise NotImplementedError

    def buttons(self, who: str) -> list[str]:
        """The labels on the latest message `who` received that has buttons."""
        raise NotImplementedError

    # -- built on them ----------------------------------------------------------

    def act(self, who: str, says: Says) -> Screens:
        """One turn of any kind."""
        if isinstance(says, Tap):
            return self.tap(who, says.label)
        if isinstance(says, File):
            return self.send_file(who, says.name, says.task)
        if isinstance(says, Reply):
            return self.reply(who, says.task, says.text)
        if isinstance(says, Wait):
            return self.tick(minutes=says.minutes, hours=says.hours, days=says.days)
        return self.say(who, says)

    def fill(self, who: str, line: str | Tap, answers: Iterable[tuple[str, Answer]], *, submit: bool = True,
             sees: dict[str, list[str]] | None = None, not_sees: dict[str, list[str]] | None = None) -> Screens:
        """Open a form with `line` — `/form <name> [#task]`, `/escalate <problem>`, or, for a work step's
        own fields, `/complete <id>` or Tap("Done") on its card — answer each field in order, as
        (field id, typed text or File), then /submit. Every answer must be taken by the field it names
        (checked on the chat's draft, where the platform asks field by field). With `sees`/`not_sees`
        the last turn is checked like a Turn; returns its screens."""
        answers = list(answers)
        screens = self.act(who, line)
        drafted = self.answered(who) is not None  # the chat asks field by field (a Slack modal does not)
        for field_id, answer in answers:
            screens = self.send_file(who, answer.name) if isinstance(answer, File) else self.say(who, answer)
            if drafted:
                taken = self.answered(who)
                assert taken and taken[-1] == field_id, (
                    f"{self.platform}: {who}'s answer {answer!r} for {field_id!r} was not taken "
                    f"(answered so far: {taken}); {who} saw:\n{screens.get(who, '')}")
        if submit:
            screens = self.say(who, "/submit")
            if drafted:
                assert self.answered(who) is None, f"{self.platform}: /submit did not send the form:\n" \
                                                   f"{screens.get(who, '')}"
        if sees is not None or not_sees is not None:
            self.check(Turn(who, "/submit" if submit else line, sees or {}, not_sees or {}), screens, "fill")
        return screens

    def play(self, turns: list[Turn]) -> list[Screens]:
        """Play every turn and check each person's screen; nobody unnamed hears anything."""
        seen = []
        for number, turn in enumerate(turns, 1):
            screens = self.act(turn.who, turn.says)
            self.check(turn, screens, f"turn {number}")
            seen.append(screens)
        return seen

    def check(self, turn: Turn, screens: Screens, where: str = "") -> None:
        where = f"{self.platform}, {where} ({turn.who}: {turn.says!r})"
        for person, expected in turn.sees.items():
            for text in expected:
                assert text in screens.get(person, ""), (
                    f"{where}: {person} should see {text!r}; saw:\n{screens.get(person, '')}")
        for person, unexpected in turn.not_sees.items():
            for text in unexpected:
                assert text not in screens.get(person, ""), f"{where}: {person} should not see {text!r}"
        heard = {person for person, text in screens.items() if text} - {turn.who}
        assert heard <= set(turn.sees), (
            f"{where}: unexpected notices to {sorted(heard - set(turn.sees))}: "
            + repr({p: screens[p] for p in heard - set(turn.sees)}))

    # -- looking behind the chat (for asserts only) --

    def person_id(self, handle: str) -> int:
        with self.app.store.session() as session:
            return session.exec(select(Person.id).where(Person.handle == handle)).one()

    def answered(self, who: str) -> list[str] | None:
        """The field ids `who` has answered on their open form draft (None: no draft)."""
        with self.app.store.session() as session:
            draft = session.get(FormDraft, self.person_id(who))
            return list(draft.answered) if draft else None

    def close(self) -> None:
        pass


# ----- the console ------------------------------------------------------------


class _RecordingConsole(ConsoleSession):
    """The console session, remembering which numbered buttons each person was shown, message by message."""

    def __init__(self, app) -> None:
        super().__init__(app)
        self.shown: list[tuple[str, dict[str, int]]] = []  # (handle, label -> number), oldest first

    def show(self, message, owner=None) -> str:
        before = set(self.taps)
        text = super().show(message, owner)
        labels = {self.taps[n].button.label: n for n in sorted(set(self.taps) - before)}
        if labels:
            self.shown.append(((owner or self.actor).handle, labels))
        return text


class ConsoleDriver(Driver):
    """The console chat (adapters/console) through tests/dialog.py's Dialog: `teamflow console` as a test."""

    platform = "console"

    def __init__(self, app, messenger, clock) -> None:
        self.app, self.messenger, self.clock = app, messenger, clock
        scheduler.tick(app)  # the bot has been up since this morning: today's digests are behind it
        self.dialog = Dialog(app, messenger)
        self.dialog.console = console = _RecordingConsole(app)
        # As `teamflow console` does: notices are shown with their buttons numbered, for their reader.
        messenger.on_message = lambda person, message: console.notice(person, message)
        messenger.on_channel = lambda chat_id, message: console.channel_post(chat_id, message)

    def say(self, who: str, text: str) -> Screens:
        return {person: normalise(screen) for person, screen in self.dialog.say(who, text).items()}

    def tap(self, who: str, label: str) -> Screens:
        for handle, labels in reversed(self.dialog.console.shown):
            if handle == who and label in labels:
                return self.say(who, str(labels[label]))
        raise AssertionError(f"console: {who} has no button {label!r}; they were shown "
                             f"{[list(labels) for handle, labels in self.dialog.console.shown if handle == who]}")

    def reply(self, who: str, task_id: int, text: str) -> Screens:
        return self.say(who, f"reply #{task_id} {text}")

    def send_file(self, who: str, name: str, task_id: int | None = None) -> Screens:
        # A terminal cannot send files: `/file <name>` stands for one (adapters/console/session.py).
        return self.say(who, f"/file {name}" if task_id is None else f"reply #{task_id} /file {name}")

    def tick(self, *, minutes: float = 0, hours: float = 0, days: float = 0) -> Screens:
        self.clock.advance(minutes=minutes, hours=hours, days=days)
        scheduler.tick(self.app)
        asyncio.run(automation.run_due(self.app.store, self.clock()))
        asyncio.run(self.app.delivery.drain())
        return {handle: normalise("\n".join(m.text for m in self.messenger.take(handle)))
                for handle in list(self.messenger.inbox)}

    def buttons(self, who: str) -> list[str]:
        found = [labels for handle, labels in self.dialog.console.shown if handle == who]
        return list(found[-1]) if found else []


# ----- Telegram -----------------------------------------------------------------


class LoopDriver(Driver):
    """A platform driven on an event loop of its own: `loop` runs the coroutines, `harness` is entered on it
    in `__init__` and left on close."""

    loop: asyncio.AbstractEventLoop
    harness: Any

    def close(self) -> None:
        try:
            self._run(self.harness.__aexit__(None, None, None))
        finally:
            self.loop.close()

    def _run(self, coro):
        return self.loop.run_until_complete(coro)


class TelegramDriver(LoopDriver):
    """Telegram through the real aiogram dispatcher against the fake Bot API, on an event loop of its own."""

    platform = "telegram"
    # The demo org's people on Telegram: (user id, username, the language their Telegram app reports).
    # No app language, so everyone reads what they read on the console (their own, else the org's).
    USERS = {
        "olga": (1001, "olga_reshetova", None), "pavel": (1002, "pavel_smirnov", None),
        "ivan": (1003, "ivan_petrov", None), "maria": (1004, "maria_sokolova", None),
        "anna": (1005, "anna_kuznetsova", None), "kate": (1006, "kate_belova", None),
    }

    def __init__(self, store, clock, people: Iterable[str] = PEOPLE) -> None:
        from tests.fakes import telegram_api as tg
        from tests.telegram_harness import GROUP, TelegramHarness

        self.tg, self.group, self.clock = tg, GROUP, clock
        self.loop = asyncio.new_event_loop()
        self.harness = TelegramHarness(store, clock)
        self._run(self.harness.__aenter__())
        self.app, self.fake = self.harness.app, self.harness.fake
        self._ids = itertools.count(100_000)
        # Kate has no Telegram in the demo org: the admin adds her username, as they would in the file.
        with self.app.store.session() as session:
            kate = session.exec(select(Person).where(Person.handle == "kate")).one()
            if kate.telegram_username is None:
                kate.telegram_username = self.USERS["kate"][1]
                session.add(kate)
        scheduler.tick(self.app)  # the bot has been up since this morning: today's digests are behind it
        for who in people:  # everyone opens the bot once, so notices can reach them
            self._feed(self._message(who, "/start"))
        self._chats = {self.USERS[who][0]: who for who in self.USERS}
        self._chats[GROUP] = CHANNEL

    # -- the platform methods -----------------------------------------------------

    def say(self, who: str, text: str) -> Screens:
        return self._turn(who, self._message(who, text))

    def tap(self, who: str, label: str) -> Screens:
        chat = self.USERS[who][0]
        for sent in reversed(self.fake.sent(chat)):
            message = self.fake.message(chat, sent["message_id"]) or sent
            data = self.harness.buttons(message).get(label)
            if data:
                user_id, username, lang = self.USERS[who]
                return self._turn(who, self.tg.callback_query(next(self._ids), user_id, message, data,
                                                              username=username, language_code=lang))
        raise AssertionError(f"telegram: {who} has no button {label!r}; their messages have "
                             f"{[list(self.harness.buttons(m)) for m in self.fake.sent(chat)]}")

    def reply(self, who: str, task_id: int, text: str) -> Screens:
        return self._turn(who, self._message(who, text, reply_to=self._card(who, task_id)))

    def send_file(self, who: str, name: str, task_id: int | None = None) -> Screens:
        user_id, username, lang = self.USERS[who]
        update = self.tg.document_message(next(self._ids), user_id, file_name=name, username=username,
                                          language_code=lang)
        if task_id is not None:
            update["message"]["reply_to_message"] = self._card(who, task_id)
        return self._turn(who, update)

    def tick(self, *, minutes: float = 0, hours: float = 0, days: float = 0) -> Screens:
        self.clock.advance(minutes=minutes, hours=hours, days=days)
        start = len(self.fake.calls)
        scheduler.tick(self.app)
        self._run(automation.run_due(self.app.store, self.clock()))
        self._run(self.harness.deliver())
        return self._screens(None, start)

    def buttons(self, who: str) -> list[str]:
        chat = self.USERS[who][0]
        for sent in reversed(self.fake.sent(chat)):
            labels = list(self.harness.buttons(self.fake.message(chat, sent["message_id"]) or sent))
            if labels:
                return labels
        return []

    # -- the machinery --------------------------------------------------------------

    def _feed(self, update: dict) -> None:
        self._run(self.harness.feed(update))

    def _message(self, who: str, text: str, reply_to: dict | None = None) -> dict:
        user_id, username, lang = self.USERS[who]
        return self.tg.private_message(next(self._ids), user_id, text, username=username, language_code=lang,
                                       reply_to=reply_to)

    def _card(self, who: str, task_id: int) -> dict:
        """The latest card of this task in the person's private chat."""
        chat = self.USERS[who][0]
        for sent in reversed(self.fake.sent(chat)):
            if self.app.chat.task_of_message("telegram", chat, sent["message_id"]) == task_id:
                return self.fake.message(chat, sent["message_id"]) or sent
        raise AssertionError(f"telegram: {who} has no card of #{task_id} to reply to")

    def _turn(self, who: str, update: dict) -> Screens:
        start = len(self.fake.calls)
        try:
            self._feed(update)
        except DeliveryError as exc:  # polling would log it and go on: the person gets no answer
            raise AssertionError(f"telegram: Telegram refused the answer to {who}: {exc}") from exc
        self._run(self.harness.deliver())
        return self._screens(who, start)

    def _screens(self, who: str | None, start: int) -> Screens:
        """What reached each person since call `start`: new messages in their private chat (and the
        group's posts under CHANNEL); for `who`, also their toasts and the cards redrawn in their chat."""
        screens: dict[str, list[str]] = {}
        mine = self.USERS[who][0] if who else None
        for call in self.fake.calls[start:]:
            if not call.ok:
                continue
            method = call.method.lower()
            if method == "answercallbackquery":
                if who and call.params.get("text"):
                    screens.setdefault(who, []).append(call.params["text"])
                continue
            result = call.response["result"]
            if not isinstance(result, dict) or "chat" not in result:
                continue
            chat = result["chat"]["id"]
            person = self._chats.get(chat)
            if person is None or (method.startswith("edit") and chat != mine):
                continue  # a card redrawn in place in someone else's chat is not a notice to them
            if method in ("sendmessage", "senddocument", "sendphoto") or method.startswith("edit"):
                screens.setdefault(person, []).append(result.get("text") or result.get("caption") or "")
        return {person: normalise("\n".join(texts)) for person, texts in screens.items()}


# ----- a customer's service on loopback, for bot steps -------------------------


class ThreadedService:
    """An aiohttp app on 127.0.0.1 served from a thread of its own, so any driver's loop can call it."""

    def __init__(self, handler: Callable, path: str = "/check") -> None:
        self.handler, self.path = handler, path
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "ThreadedService":
        self._thread.start()
        assert self._ready.wait(10), "the loopback service did not start"
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def _serve(self) -> None:
        from aiohttp import web

        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post(self.path, self.handler)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}{self.path}"
        self._ready.set()
        self.loop.run_forever()


# ----- Slack ----------------------------------------------------------------------


class SlackDriver(LoopDriver):
    """Slack through the real bolt app on a loopback server, signed requests as Slack sends them, against
    the fake Web API, on an event loop of its own. Everyone has opened the app's Home once (so each is a
    known member); commands are slash commands typed in the person's DM with the app, other text is a
    DM message. Forms open as modals (`fill` fills one by field id, follow-up views too); the chat's
    /submit, /skip, /back and /cancel are the Send, Skip, Back and Cancel buttons, as Slack has no such
    slash commands. A screen is the text of the messages posted to the person's DM, ephemeral messages and
    command answers only they see, the modal opened for them, and for who acted, their cards redrawn."""

    platform = "slack"
    # The demo org's people as the fake workspace knows them: (member id, e-mail). No Slack locale, so
    # everyone reads what they read on the console. Kate is not named by id in the org file: her
    # e-mail finds her on first contact.
    USERS = {
        "ivan": ("U01IVAN0001", "ivan@example.com"), "olga": ("U01OLGA0002", "olga@example.com"),
        "maria": ("U01MARIA003", "maria@example.com"), "pavel": ("U01PAVEL004", "pavel@example.com"),
        "anna": ("U01ANNA0005", "anna@example.com"), "kate": ("U01KATE0006", "kate@example.com"),
    }
    ANNOUNCEMENTS = "C0123ABCD"  # bot/demo/org.yaml's Slack announcement channel
    CONTROLS = {"/submit": commands.SubmitForm, "/skip": commands.SkipField, "/back": commands.BackField,
                "/cancel": commands.CancelForm}

    def __init__(self, store, clock, people: Iterable[str] = PEOPLE) -> None:
        from tests.fakes import slack_api as fake_slack
        from tests.slack_harness import SlackHarness

        self.fake_slack, self.clock = fake_slack, clock
        self.loop = asyncio.new_event_loop()
        users = {who: (member, email, None) for who, (member, email) in self.USERS.items()}
        self.harness = SlackHarness(store, clock, users=users)
        self._run(self.harness.__aenter__())
        self.app, self.fake = self.harness.app, self.harness.fake
        self._dms = {self.harness.dm(who): who for who in self.USERS}
        self._responders: dict[str, str] = {}  # response_url id -> who typed the command
        self._prompts: dict[str, dict] = {}  # who -> the open modal asking for words (a reject's reason)
        self._ids = itertools.count(1)
        self.timeline: list[tuple[str, str, Any]] = []  # (who, kind, where): what each received, oldest first
        scheduler.tick(self.app)  # the bot has been up since this morning: today's digests are behind it
        for who in people:
            self._run(self.harness.open_home(who))

    # -- the platform methods -----------------------------------------------------

    def say(self, who: str, text: str) -> Screens:
        prompt = self._prompts.pop(who, None)
        if prompt is not None and not text.startswith("/"):  # the words a tapped Reject (say) asked for
            return self._turn(who, self.harness.submit(who, prompt, text))
        if prompt is not None and text.strip() == "/cancel":
            return {}  # the modal is closed; nothing happened
        if text.strip() in self.CONTROLS:
            return self._tap_where(who, lambda label, command: isinstance(command, self.CONTROLS[text.strip()]), text)
        if text.startswith("/"):
            from adapters.slack.listeners.commands import COMMANDS

            name, _, rest = text.partition(" ")
            assert name[1:] in COMMANDS, f"slack: there is no slash command {name} (manifest.yaml)"
            response_url = f"{self.fake.root}/response/d{next(self._ids)}"
            self._responders[response_url.rsplit("/", 1)[-1]] = who
            fields = self.fake_slack.slash_command(
                self.USERS[who][0], who, name, self.harness.escape_mentions(rest), channel_id=self.harness.dm(who),
                response_url=response_url, trigger_id=self.fake.issue_trigger(self.USERS[who][0]))
            return self._turn(who, self.harness.post_form(fields))
        return self._turn(who, self.harness.say(who, self.harness.escape_mentions(text), channel=self.harness.dm(who),
                                                channel_type="im"))

    def tap(self, who: str, label: str) -> Screens:
        return self._tap_where(who, lambda shown, command: shown == label, label)

    def reply(self, who: str, task_id: int, text: str) -> Screens:
        return self._turn(who, self.harness.say(who, self.harness.escape_mentions(text), channel=self.harness.dm(who),
                                                thread_ts=self._card(who, task_id), channel_type="im"))

    def send_file(self, who: str, name: str, task_id: int | None = None) -> Screens:
        file = {"id": f"F0{next(self._ids):09d}", "name": name, "mimetype": "application/pdf", "size": 20_480}
        thread = self._card(who, task_id) if task_id is not None else None
        return self._turn(who, self.harness.say(who, "", channel=self.harness.dm(who), thread_ts=thread,
                                                channel_type="im", files=[file]))

    def tick(self, *, minutes: float = 0, hours: float = 0, days: float = 0) -> Screens:
        self.clock.advance(minutes=minutes, hours=hours, days=days)

        async def due_work():
            scheduler.tick(self.app)
            await automation.run_due(self.app.store, self.clock())
        return self._turn(None, due_work())

    def buttons(self, who: str) -> list[str]:
        for _kind, message in self._received(who):
            labels = list(self.harness.buttons(message))
            if labels:
                return labels
        return []

    def fill(self, who: str, line: str | Tap, answers: Iterable[tuple[str, Answer]], *, submit: bool = True,
             sees: dict[str, list[str]] | None = None, not_sees: dict[str, list[str]] | None = None) -> Screens:
        """A form or a work step's fields in one modal (and its follow-up views); without a modal (a typed
        /complete), field by field in the DM as on other platforms."""
        answers = list(answers)
        opened = len(self.fake.modals)
        screens = self.act(who, line)
        if len(self.fake.modals) > opened:
            view = self.fake.modals[-1]["view"]
            while True:  # Send; a follow-up view asks the fields that the answers so far brought in
                reply, screens = self._submit(who, view, answers)
                body = reply.json() if reply.text else None
                if not body or body.get("response_action") != "update":
                    break
                view = body["view"]
            assert not body, f"slack: the modal refused {who}'s answers: {body}"
        else:
            for _field_id, answer in answers:
                screens = self.send_file(who, answer.name) if isinstance(answer, File) else self.say(who, answer)
            if submit:
                screens = self.say(who, "/submit")
        if sees is not None or not_sees is not None:
            self.check(Turn(who, "/submit" if submit else line, sees or {}, not_sees or {}), screens, "fill")
        return screens

    # -- the machinery --------------------------------------------------------------

    def _submit(self, who: str, view: dict, answers: list[tuple[str, Answer]]):
        blocks = {b["block_id"].removeprefix("f:"): b for b in view["blocks"] if b["type"] == "input"}
        given = {field_id: self._as_picked(blocks[field_id]["element"], answer)
                 for field_id, answer in answers if field_id in blocks and answer != "/skip"}
        replies = []

        async def send():
            replies.append(await self.harness.fill(who, view, given))
        screens = self._turn(who, send())
        return replies[0], screens

    def _as_picked(self, element: dict, answer: Answer):
        """What a person picks in the modal for what they would have typed in chat."""
        if isinstance(answer, File):
            return answer.name
        kind, text = element["type"], str(answer).strip()
        if kind == "datepicker":
            from core.forms.readers import read_date
            return read_date(text, now=self.clock(), tz="Europe/Moscow").isoformat()
        if kind == "radio_buttons":  # yes / no
            from core.forms.readers import read_yes_no
            return "yes" if read_yes_no(text) else "no"
        if kind in ("static_select", "multi_static_select"):
            options = element["options"]
            people = text.startswith("@")  # several people, as mentioned in chat: "@pavel @maria"
            parts = re.split(r"[,\s]+" if people else r"\s*,\s*", text) if kind == "multi_static_select" else [text]
            picked = [part.strip().lstrip("@") for part in parts if part.strip()]
            picked = [options[int(p) - 1]["value"] if p.isdigit() and 0 < int(p) <= len(options) else p
                      for p in picked]
            return picked if kind == "multi_static_select" else picked[0]
        return text

    def _tap_where(self, who: str, wanted: Callable, what: str) -> Screens:
        from adapters.slack.values import unpack

        for kind, message in self._received(who):
            for label, action in self.harness.buttons(message).items():
                command = unpack(action["value"])
                if command is not None and wanted(label, command):
                    return self._turn(who, self.harness.tap(who, message, label, ephemeral=kind != "msg"))
        raise AssertionError(f"slack: {who} has no button {what!r}; they received "
                             f"{[list(self.harness.buttons(m)) for _k, m in self._received(who)]}")

    def _received(self, who: str):
        """(kind, message as it is now) of what `who` received, newest first."""
        for person, kind, where in reversed(self.timeline):
            if person != who:
                continue
            if kind == "msg":
                yield kind, self.fake.message(*where)
            else:
                yield kind, where

    def _card(self, who: str, task_id: int) -> str:
        dm = self.harness.dm(who)
        for person, kind, where in reversed(self.timeline):
            if person == who and kind == "msg" and where[0] == dm and \
                    self.app.chat.task_of_message("slack", dm, where[1]) == task_id:
                return where[1]
        raise AssertionError(f"slack: {who} has no card of #{task_id} to reply to")

    def _turn(self, who: str | None, work) -> Screens:
        calls, responses = len(self.fake.calls), len(self.fake.responses)
        reply = self._run(work)
        if getattr(reply, "status", 200) != 200:
            raise AssertionError(f"slack: the app answered {who}'s request with {reply.status}: {reply.text}")
        self._run(self.harness.deliver())
        return self._screens(who, calls, responses, reply)

    def _screens(self, who: str | None, calls: int, responses: int, reply) -> Screens:
        screens: dict[str, list[str]] = {}
        mine = self.harness.dm(who) if who else None
        for call in self.fake.calls[calls:]:
            body = call.response or {}
            if not body.get("ok"):
                continue
            if call.method in ("chat.postMessage", "chat.update"):
                channel, ts = body["channel"], body["ts"]
                person = CHANNEL if channel == self.ANNOUNCEMENTS else self._dms.get(channel)
                if person is None or (call.method == "chat.update" and channel != mine):
                    continue  # a card redrawn in someone else's DM is not a notice to them
                if call.method == "chat.postMessage":
                    self.timeline.append((person, "msg", (channel, ts)))
                screens.setdefault(person, []).append(self._text(call.params))
            elif call.method == "chat.postEphemeral":
                person = self._who(call.params["user"])
                message = {**self.fake.ephemerals_for(call.params["user"])[-1], "ts": body["message_ts"]}
                self.timeline.append((person, "eph", message))
                screens.setdefault(person, []).append(self._text(call.params))
            elif call.method == "views.open":
                person = self._who(self.fake.modals[-1]["user"])
                view = call.params["view"]
                if view.get("callback_id") == "tf.prompt":
                    self._prompts[person] = self.fake.modals[-1]["view"]
                labels = [view["title"]["text"]] + [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
                screens.setdefault(person, []).append("\n".join(labels))
        for answer in self.fake.responses[responses:]:
            person = self._responders.get(answer["id"], who)  # a tap's response_url answers the tapper
            if person:
                self.timeline.append((person, "eph", {**answer, "channel": self.harness.dm(person),
                                                      "ts": f"1800000000.{answer['id']}"}))
                screens.setdefault(person, []).append(self._text(answer))
        return {person: normalise(html.unescape("\n".join(texts))) for person, texts in screens.items()}

    def _who(self, member: str) -> str:
        return next(who for who, (m, _e) in self.USERS.items() if m == member)

    @staticmethod
    def _text(message: dict) -> str:
        blocks = message.get("blocks") or []
        if isinstance(blocks, str):
            import json
            blocks = json.loads(blocks)
        texts = [b["text"]["text"] for b in blocks if b.get("type") in ("section", "header")]
        return "\n".join(texts) or message.get("text", "")
