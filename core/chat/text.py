"""The chat: the same words on every platform, read into commands.

An adapter hands over who spoke (a resolved person id) and what they typed;
`Chat.handle` hands the line to the bus as TypedText, whose handler reads it
into a typed command (core/services/commands.py) inside the same unit of work (a time
is read in the person's zone) and runs that command's handler. The answer is
rendered for that person's language and platform. Refusals come back as
messages too; they change nothing because the transaction rolls back.
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from sqlmodel import Session, select

from core.chat import form_dialogs as chat_forms
from core.chat import form_words
from core.chat.parsing import parse_announcement, parse_command, parse_id, parse_task_args, split_id, valid_text
from core.chat.timeparse import parse_when
from core.domain.clock import Clock
from core.domain.errors import BadInput, Refusal
from core.domain.models import Person
from core.presentation.i18n import N_, gettext_for, normalize
from core.presentation.messages import CANCELLED, PROMPTS, SOMETHING_WRONG, STALE_BUTTON, Message
from core.presentation.presenter import Presenter
from core.presentation.render import Templates, refusal_text
from core.presentation.views import Reader
from core.services import cards, invites, task_handlers
from core.services import commands as c
from core.services.bus import Actor, Bus, UnitOfWork
from core.services.people import Defaults, language_of
from core.services.task_handlers import Platforms
from core.services.tasks import TEXT_EMPTY

log = logging.getLogger(__name__)
INPUT_MAX = 12000
TOO_LONG = N_("That message is %(length)s characters long; I read at most %(max)s.")
UNKNOWN_COMMAND = N_("I don't know /%(name)s. Type /help to see what I can do.")
NOT_A_COMMAND = N_("I work with commands. Type /help to see them, or /task to create a task.")
ANNOUNCE_CLOSE = re.compile(r"^close\s+#?(\d{1,12})$", re.IGNORECASE)
RECURRING_STOP = re.compile(r"^stop\s+#?(\d{1,12})$", re.IGNORECASE)
TASK_REF = re.compile(r"(?<![\w&])#(\d{1,9})\b")
ASSIGN_WHOM = N_("Say whom to give it to: /assign 42 @olga")
LINK_TWO = N_("Name two tasks: /link 42 43")


class Chat:
    """Text in, rendered answer out, for one person on one platform."""

    def __init__(self, store, templates: Templates, defaults: Defaults, clock: Clock, *, forms=None,
                 platforms: Platforms | None = None) -> None:
        self.store, self.templates, self.defaults, self.clock = store, templates, defaults, clock
        self.forms = forms  # the forms people fill in chat (core.forms.Forms)
        self.platforms = platforms or Platforms()
        self.present = Presenter(templates, clock)
        self.bus = Bus(store, clock, defaults, {
            **task_handlers.handlers(self.present, self.platforms, defaults),
            **form_words.handlers(self),
            c.TypedText: self._typed_text,
        })

    def words(self) -> set[str]:
        """Every command name the chat understands (help, menus and manifests name these)."""
        return set(READERS)

    def run(self, person_id: int, command: c.Command, platform: str) -> Message:
        """Run a command (a tapped button's, its asked field filled in; a view's) and answer with its reply."""
        return self.bus.handle(command, Actor(person_id, platform)).reply

    # ----- entry points ----------------------------------------------------

    def handle(self, person_id: int, text: str, platform: str = "plain") -> Message:
        """Answer one line typed by a person."""
        text = valid_text(text or "")  # once, here: every platform's text comes in through this door
        return self.bus.handle(c.TypedText(text), Actor(person_id, platform)).reply

    def reply_to_card(self, person_id: int, task_id: int, text: str, platform: str = "plain") -> Message:
        """A reply to a task's card is a comment on that task."""
        return self.bus.handle(c.CommentTask(task_id, valid_text(text)), Actor(person_id, platform)).reply

    def attach_file(self, person_id: int, task_id: int, platform: str, *, file_id: str, name: str | None,
                    mime_type: str | None, size: int | None) -> Message:
        """A file sent as a reply to a card is attached to its task."""
        name = valid_text(name) if name else name
        command = c.AttachFile(task_id, file_id, name, mime_type, size)
        return self.bus.handle(command, Actor(person_id, platform)).reply

    def send_file(self, person_id: int, platform: str, *, file_id: str, name: str | None, mime_type: str | None,
                  size: int | None) -> Message:
        """A file sent to the bot, not as a reply to a card: it answers the form question asking for one."""
        name = valid_text(name) if name else name

        def work(session, reader):
            item = {"file_id": file_id, "platform": platform, "name": name, "mime_type": mime_type, "size": size}
            answered = chat_forms.answer_draft(self, session, reader, "", file={k: v for k, v in item.items() if v})
            if answered is None:
                raise BadInput(N_("To attach a file to a task, send it as a reply to the task's card."))
            return answered
        return self._guard(person_id, platform, work)

    def show_card(self, person_id: int, task_id: int, platform: str) -> Message:
        """The card alone (no headline), as a tapped message is redrawn."""
        return self.bus.handle(c.ShowTask(task_id, history=False), Actor(person_id, platform)).reply

    def join(self, code: str, platform: str, *, name: str, language: str | None, handle_hint: str | None,
             **identity) -> tuple[int | None, Message]:
        """A stranger opens an invite: they become a member, or hear why not."""
        lang = normalize(language, normalize(self.defaults.language))
        code, name, handle_hint = (valid_text(t) if t else t for t in (code, name, handle_hint))
        try:
            with self.store.session() as session:
                person = invites.accept_invite(session, code, name=name, now=self.clock(), handle_hint=handle_hint,
                                               platform_language=normalize(language, "") or None, **identity)
                reader = self.reader(session, person.id, platform)
                return person.id, task_handlers.help_page(self.present, UnitOfWork(session, reader, self.clock(),
                                                                                    None), c.Help())
        except Refusal as exc:
            return None, Message(text=refusal_text(exc, lang, platform), kind="refusal")

    def remember_card(self, task_id: int, sent, person_id: int | None) -> None:
        """A card the adapter sent directly (a command's answer): replies and edits map back."""
        with self.store.session() as session:
            cards.remember_card(session, task_id, sent, person_id, self.clock())

    def task_of_message(self, platform: str, chat_id, message_id) -> int | None:
        """Which task a platform message shows, if it is one of our cards."""
        with self.store.session() as session:
            return cards.task_of_message(session, platform, str(chat_id), str(message_id))

    def move_chat(self, platform: str, old_chat_id, new_chat_id) -> None:
        """A chat changed its id (a Telegram group became a supergroup)."""
        with self.store.session() as session:
            cards.move_chat(session, platform, str(old_chat_id), str(new_chat_id))

    def say(self, person_id: int | None, msgid: str, **params) -> str:
        """A short sentence in the person's language (prompts, toasts)."""
        lang = self._lang_of(person_id) if person_id else normalize(self.defaults.language)
        return gettext_for(lang)(msgid, **params)

    def prompt_text(self, person_id: int, button) -> str:
        """What to ask before a tapped action can run (a comment, a time)."""
        return self.say(person_id, PROMPTS[type(button.command)], id=button.task_id)

    def stale_button(self, person_id: int | None) -> str:
        return self.say(person_id, STALE_BUTTON)

    def cancelled(self, person_id: int, platform: str) -> Message:
        return Message(text=self.say(person_id, CANCELLED), kind="text")

    def _guard(self, person_id: int, platform: str, work) -> Message:
        """Run `work(session, reader)` in the bus's unit of work; a Refusal is the answer and changes nothing."""
        return self.bus.within(Actor(person_id, platform), lambda uow: work(uow.session, uow.reader)).reply

    def trouble(self, person_id: int | None = None, language: str | None = None, *,
                telegram_id: int | None = None, slack_id: str | None = None, saying: str = SOMETHING_WRONG) -> Message:
        """What a person hears when handling their update failed (or, `saying=NOT_SAVED`, could not
        even be recorded): in their language when the store still answers, else in their chat app's
        (`language`) or the org's."""
        lang = normalize(language, normalize(self.defaults.language))
        try:
            with self.store.read() as session:  # a read: it answers while writes are refused
                person = session.get(Person, person_id) if person_id is not None else None
                for column, account in ((Person.telegram_id, telegram_id), (Person.slack_id, slack_id)):
                    if person is None and account is not None:
                        person = session.exec(select(Person).where(column == account)).first()
                lang = language_of(person, self.defaults) if person else lang
        except Exception:  # noqa: BLE001 - the store may be what failed
            log.warning("no language for the person: the store did not answer", exc_info=True)
        return Message(text=gettext_for(lang)(saying), kind="refusal")

    def reader(self, session: Session, person_id: int, platform: str = "plain") -> Reader:
        """The acting member, with their language, zone and platform."""
        return self.bus.reader(session, Actor(person_id, platform))

    def _lang_of(self, person_id: int) -> str:
        return self.bus.language(person_id)

    def render(self, template_name: str, reader: Reader, **ctx) -> str:
        return self.present.render(template_name, reader, **ctx)

    def card(self, session: Session, task, reader: Reader, headline: str = "", history: bool = False) -> Message:
        """A task's card for this reader (core/presentation/presenter.py)."""
        return self.present.card(session, task, reader, headline, history)

    def _headline(self, reader: Reader, msgid: str, **params) -> str:
        return self.present.headline(reader, msgid, **params)

    # ----- typed text --------------------------------------------------------

    def _typed_text(self, uow: UnitOfWork, typed: c.TypedText) -> Message:
        """A line read into a command and run; plain text answers an open form, or names a task."""
        text = typed.text
        if len(text) > INPUT_MAX:
            raise BadInput(TOO_LONG, length=len(text), max=INPUT_MAX)
        text = text.replace("\x00", "")  # no chat sends NUL, and PostgreSQL refuses it in text
        command = parse_command(text)
        if command is None:
            answered = chat_forms.answer_draft(self, uow.session, uow.reader, text)
            if answered is not None:
                return answered
            ref = TASK_REF.search(text)
            if ref:
                return uow.dispatch(c.ShowTask(int(ref.group(1))))
            raise BadInput(NOT_A_COMMAND)
        read = READERS.get(command.name)
        if read is None:
            raise BadInput(UNKNOWN_COMMAND, name=command.name[:32])
        return uow.dispatch(read(uow, command.args))


# ----- reading each command's words ---------------------------------------------


def _time_reader(uow: UnitOfWork):
    return lambda when: parse_when(when, now=uow.now, tz=uow.reader.tz)


def read_task(uow: UnitOfWork, args: str) -> c.CreateTask:
    """`/task Title @assignee @watcher by tomorrow 15:00` (or `every monday 10:00`), a description below."""
    found = parse_task_args(args, _time_reader(uow))
    return c.CreateTask(found.title, found.mentions[0] if found.mentions else None, tuple(found.mentions[1:]),
                        found.due, found.description, found.repeat)


def read_assign(uow: UnitOfWork, args: str) -> c.AssignTask:
    task_id, rest = split_id(args, ASSIGN_WHOM)
    handle = rest.strip().lstrip("@").split()[0] if rest.strip() else ""
    if not handle:
        raise BadInput(ASSIGN_WHOM)
    return c.AssignTask(task_id, handle)


def read_link(uow: UnitOfWork, args: str) -> c.LinkTasks:
    task_id, rest = split_id(args, LINK_TWO)
    return c.LinkTasks(task_id, parse_id(rest, LINK_TWO))


def read_recurring(uow: UnitOfWork, args: str) -> c.Command:
    stopping = RECURRING_STOP.match(args.strip())
    return c.StopRecurring(int(stopping.group(1))) if stopping else c.ListRecurring()


def read_announce(uow: UnitOfWork, args: str) -> c.Command:
    closing = ANNOUNCE_CLOSE.match(args)
    if closing:
        return c.CloseAnnouncement(int(closing.group(1)))
    text, post_at = parse_announcement(args, _time_reader(uow))
    return c.Announce(text, post_at)


def read_rsvp(uow: UnitOfWork, args: str) -> c.Rsvp:
    from core.services.announcements import BAD_ANSWER

    parts = args.split()
    if len(parts) != 2:
        raise BadInput(BAD_ANSWER)
    return c.Rsvp(parse_id(parts[0], BAD_ANSWER), parts[1].lower())


def _rest(msgid: str, build):
    """A reader for `/name <task> <rest>`: the rest must be there."""
    return lambda uow, args: build(*split_id(args, msgid))


READERS: dict[str, Callable[[UnitOfWork, str], c.Command]] = {
    "task": read_task,
    "tasks": lambda uow, args: c.ListTasks(args.strip().lower() or "mine"),
    "board": lambda uow, args: c.ShowBoard(),
    "show": lambda uow, args: c.ShowTask(parse_id(args)),
    "done": lambda uow, args: c.CloseTask(parse_id(args)),
    "reopen": lambda uow, args: c.ReopenTask(parse_id(args)),
    "take": lambda uow, args: c.TakeTask(parse_id(args)),
    "watch": lambda uow, args: c.WatchTask(parse_id(args)),
    "assign": read_assign,
    "due": _rest(N_("Say when: /due 42 tomorrow 15:00"), c.SetDue),
    "snooze": _rest(N_("Say until when: /snooze 42 in 2 hours"), c.SnoozeTask),
    "comment": _rest(TEXT_EMPTY, c.CommentTask),
    "attach": _rest(N_("Send the link after the number: /attach 42 https://example.com/file"), c.AttachLink),
    "link": read_link,
    "recurring": read_recurring,
    "announce": read_announce,
    "rsvp": read_rsvp,
    "settings": lambda uow, args: c.ChangeSettings(args),
    "invite": lambda uow, args: c.Invite(),
    "help": lambda uow, args: c.Help(),
    "start": lambda uow, args: c.Help(),
    **form_words.READERS,
}
