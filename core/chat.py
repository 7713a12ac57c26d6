"""The chat: the same words on every platform.

An adapter hands over who spoke (a resolved person id) and what they typed;
`Chat.handle` parses it, runs one use case in one unit of work, and returns
the answer rendered for that person's language and platform. Refusals come
back as messages too; they change nothing because the transaction rolls back.
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Callable

from sqlmodel import Session, select

from core import announcements, cards, chat_forms, invites, queries, recurring, tasks
from core.clock import Clock
from core.commands import Command, parse_announcement, parse_command, parse_id, parse_task_args, split_id
from core.errors import BadInput, Refusal
from core.forms import notices as forms_notices
from core.forms.context import valid_text
from core.i18n import N_, gettext_for, normalize
from core.messages import CANCELLED, PROMPTS, SOMETHING_WRONG, STALE_BUTTON, Message
from core.models import Person
from core.people import Defaults, get_active, language_of, resolve_mention, resolve_mentions, timezone_of
from core.render import Templates, headed, refusal_text
from core.timeparse import parse_when
from core.views import Facts, Reader, board_view, card_buttons, history_view, page, task_view, task_views, when

log = logging.getLogger(__name__)
INPUT_MAX = 12000
TOO_LONG = N_("That message is %(length)s characters long; I read at most %(max)s.")
UNKNOWN_COMMAND = N_("I don't know /%(name)s. Type /help to see what I can do.")
NOT_A_COMMAND = N_("I work with commands. Type /help to see them, or /task to create a task.")
ANNOUNCE_CLOSE = re.compile(r"^close\s+#?(\d{1,12})$", re.IGNORECASE)
TASK_REF = re.compile(r"(?<![\w&])#(\d{1,9})\b")


class Chat:
    """Text in, rendered answer out, for one person on one platform."""

    def __init__(self, store, templates: Templates, defaults: Defaults, clock: Clock) -> None:
        self.store, self.templates, self.defaults, self.clock = store, templates, defaults, clock
        self.handlers: dict[str, Callable] = {
            "task": self._task, "tasks": self._tasks, "board": self._board, "show": self._show,
            "done": self._done, "reopen": self._reopen, "assign": self._assign, "take": self._take,
            "due": self._due, "snooze": self._snooze, "comment": self._comment, "attach": self._attach,
            "link": self._link, "watch": self._watch, "settings": self._settings, "help": self._help,
            "start": self._help, "invite": self._invite, "announce": self._announce, "rsvp": self._rsvp,
            "recurring": self._recurring,
        }
        # The forms people fill in chat (core.forms.Forms), set by the composition root.
        self.forms = None
        chat_forms.register(self)
        # Where announcements go: (platform, chat id) of every running platform's
        # announcement channels, set by the composition root.
        self.channels: list[tuple[str, str]] = []
        # How each platform turns an invite code into something to share.
        self.invite_links: dict[str, Callable[[str], str]] = {}

    # ----- entry points ----------------------------------------------------

    def handle(self, person_id: int, text: str, platform: str = "plain") -> Message:
        """Answer one line typed by a person."""
        text = valid_text(text or "")  # once, here: every platform's text comes in through this door
        return self._guard(person_id, platform, lambda s, r: self._dispatch(s, r, text))

    def reply_to_card(self, person_id: int, task_id: int, text: str, platform: str = "plain") -> Message:
        """A reply to a task's card is a comment on that task."""
        return self.handle(person_id, f"/comment {task_id} {text}", platform)

    def attach_file(self, person_id: int, task_id: int, platform: str, *, file_id: str, name: str | None,
                    mime_type: str | None, size: int | None) -> Message:
        """A file sent as a reply to a card is attached to its task."""
        name = valid_text(name) if name else name

        def work(session, reader):
            out = tasks.attach_file(session, person_id, task_id, platform=platform, file_id=file_id, name=name,
                                    mime_type=mime_type, size=size, now=self.clock())
            return self.card(session, out.task, reader, self._headline(reader, N_("File attached to #%(id)s."), id=task_id))
        return self._guard(person_id, platform, work)

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
        def work(session, reader):
            return self.card(session, tasks.visible_task(session, reader.person, task_id), reader)
        return self._guard(person_id, platform, work)

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
                return person.id, self._help(session, reader, Command("help"))
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
        return self.say(person_id, PROMPTS[button.action], id=button.task_id)

    def stale_button(self, person_id: int | None) -> str:
        return self.say(person_id, STALE_BUTTON)

    def cancelled(self, person_id: int, platform: str) -> Message:
        return Message(text=self.say(person_id, CANCELLED), kind="text")

    def _guard(self, person_id: int, platform: str, work) -> Message:
        try:
            with self.store.session() as session:
                return work(session, self.reader(session, person_id, platform))
        except Refusal as exc:
            return Message(text=refusal_text(exc, self._lang_of(person_id), platform), kind="refusal")

    def trouble(self, person_id: int | None = None, language: str | None = None, *,
                telegram_id: int | None = None, slack_id: str | None = None) -> Message:
        """What a person hears when handling their update failed: in their language when the
        store still answers, else in their chat app's (`language`) or the org's."""
        lang = normalize(language, normalize(self.defaults.language))
        try:
            with self.store.session() as session:
                person = session.get(Person, person_id) if person_id is not None else None
                for column, account in ((Person.telegram_id, telegram_id), (Person.slack_id, slack_id)):
                    if person is None and account is not None:
                        person = session.exec(select(Person).where(column == account)).first()
                lang = language_of(person, self.defaults) if person else lang
        except Exception:  # noqa: BLE001 - the store may be what failed
            log.warning("no language for the person: the store did not answer", exc_info=True)
        return Message(text=gettext_for(lang)(SOMETHING_WRONG), kind="refusal")

    def reader(self, session: Session, person_id: int, platform: str = "plain") -> Reader:
        """The acting member, with their language, zone and platform."""
        person = get_active(session, person_id)
        return Reader(person, language_of(person, self.defaults), timezone_of(person, self.defaults), platform)

    def _lang_of(self, person_id: int) -> str:
        with self.store.session() as session:
            person = session.get(Person, person_id)
        return language_of(person, self.defaults) if person else normalize(self.defaults.language)

    def render(self, template_name: str, reader: Reader, **ctx) -> str:
        return self.templates.render(template_name, reader.lang, reader.platform, **ctx)

    # ----- dispatch ------------------------------------------------------------

    def _dispatch(self, session: Session, reader: Reader, text: str) -> Message:
        if len(text) > INPUT_MAX:
            raise BadInput(TOO_LONG, length=len(text), max=INPUT_MAX)
        text = text.replace("\x00", "")  # no chat sends NUL, and PostgreSQL refuses it in text
        command = parse_command(text)
        if command is None:
            answered = chat_forms.answer_draft(self, session, reader, text)
            if answered is not None:
                return answered
            ref = TASK_REF.search(text)
            if ref:
                return self._show(session, reader, Command("show", ref.group(1)))
            raise BadInput(NOT_A_COMMAND)
        handler = self.handlers.get(command.name)
        if handler is None:
            raise BadInput(UNKNOWN_COMMAND, name=command.name[:32])
        return handler(session, reader, command)

    # ----- handlers: each parses its arguments and calls one use case -----------

    def card(self, session: Session, task, reader: Reader, headline: str = "", history: bool = False) -> Message:
        """A task's card for this reader, with the buttons they may use; a request's shows its form and route."""
        with page(session, [task]) as loaded:  # one query tells a request's card from a task's, and fills it
            if loaded.facts.get(task.id, Facts()).request:
                return forms_notices.card(self, session, task, reader, headline=headline,
                                          history=history_view(session, task, reader) if history else None)
            text = self.render(
                "card", reader, t=task_view(session, task, reader, self.clock()), headline="",
                history=history_view(session, task, reader) if history else None,
            )
        buttons = card_buttons(task, reader)
        redraw = None if history else Message(text=text, buttons=buttons, task_id=task.id, kind="card")
        return Message(text=headed(headline, text, reader.platform), buttons=buttons, task_id=task.id, kind="card",
                       redraw=redraw)

    def _headline(self, reader: Reader, msgid: str, **params) -> str:
        return gettext_for(reader.lang)(msgid, **params)

    def _task(self, session, reader, cmd):
        args = parse_task_args(cmd.args, lambda when: parse_when(when, now=self.clock(), tz=reader.tz))
        people = resolve_mentions(session, args.mentions)
        assignee, watchers = (people[0].id if people else None), tuple(p.id for p in people[1:])
        if args.repeat is not None:
            made, out = recurring.create(session, reader.person.id, args.title, recurring.parse_rule(args.repeat),
                                         tz=reader.tz, now=self.clock(), assignee_id=assignee, watcher_ids=watchers,
                                         description=args.description)
            headline = self._headline(reader, N_("Task #%(id)s created; it repeats (repetition #%(rid)s)."),
                                      id=out.task.id, rid=made.id)
            return self.card(session, out.task, reader, headline)
        out = tasks.create_task(
            session, reader.person.id, args.title, now=self.clock(), assignee_id=assignee,
            watcher_ids_=watchers, due_at=args.due, description=args.description,
        )
        return self.card(session, out.task, reader, self._headline(reader, N_("Task #%(id)s created."), id=out.task.id))

    def _recurring(self, session, reader, cmd):
        stopping = re.match(r"^stop\s+#?(\d{1,12})$", cmd.args.strip(), re.IGNORECASE)
        if stopping:
            made = recurring.stop(session, reader.person.id, int(stopping.group(1)))
            return Message(text=self._headline(reader, N_("Repetition #%(id)s stopped."), id=made.id), kind="text")
        rows = [{"id": r.id, "title": r.title, "next": when(r.next_at, reader)}
                for r in recurring.mine(session, reader.person.id)]
        return Message(text=self.render("recurring", reader, rows=rows), kind="text")

    def _tasks(self, session, reader, cmd):
        scope = cmd.args.strip().lower() or "mine"
        found = queries.list_tasks(session, reader.person.id, scope, now=self.clock())
        views = task_views(session, found, reader, self.clock())
        text = self.render("task_list", reader, tasks=views, scope=scope, limit=queries.LIST_LIMIT)
        buttons = [[replace(b, label=f"#{t.id} {b.label}") for b in card_buttons(t, reader)[0]
                    if b.action in ("done", "take")] for t in found]
        return Message(text=text, buttons=[row for row in buttons if row], kind="list")

    def _board(self, session, reader, cmd):
        columns = queries.board(session, reader.person.id, now=self.clock())
        view = board_view(session, columns, reader, self.clock())
        return Message(text=self.render("board", reader, columns=view), kind="board")

    def _show(self, session, reader, cmd):
        task = tasks.visible_task(session, reader.person, parse_id(cmd.args))
        return self.card(session, task, reader, history=True)

    def _simple(self, session, reader, cmd, use_case, headline: str):
        out = use_case(session, reader.person.id, parse_id(cmd.args), now=self.clock())
        return self.card(session, out.task, reader, self._headline(reader, headline, id=out.task.id))

    def _done(self, session, reader, cmd):
        return self._simple(session, reader, cmd, tasks.close, N_("Task #%(id)s is done."))

    def _reopen(self, session, reader, cmd):
        return self._simple(session, reader, cmd, tasks.reopen, N_("Task #%(id)s is open again."))

    def _take(self, session, reader, cmd):
        return self._simple(session, reader, cmd, tasks.take, N_("Task #%(id)s is yours now."))

    def _watch(self, session, reader, cmd):
        return self._simple(session, reader, cmd, tasks.watch, N_("You are watching task #%(id)s."))

    def _assign(self, session, reader, cmd):
        task_id, rest = split_id(cmd.args, N_("Say whom to give it to: /assign 42 @olga"))
        handle = rest.strip().lstrip("@").split()[0] if rest.strip() else ""
        if not handle:
            raise BadInput(N_("Say whom to give it to: /assign 42 @olga"))
        person = resolve_mention(session, handle)
        out = tasks.assign(session, reader.person.id, task_id, person.id, now=self.clock())
        return self.card(session, out.task, reader,
                         self._headline(reader, N_("Task #%(id)s is now %(name)s's."), id=task_id, name=person.name))

    def _due(self, session, reader, cmd):
        task_id, when = split_id(cmd.args, N_("Say when: /due 42 tomorrow 15:00"))
        due = parse_when(when, now=self.clock(), tz=reader.tz)
        out = tasks.set_due(session, reader.person.id, task_id, due, now=self.clock())
        return self.card(session, out.task, reader, self._headline(reader, N_("New deadline for #%(id)s."), id=task_id))

    def _snooze(self, session, reader, cmd):
        task_id, when = split_id(cmd.args, N_("Say until when: /snooze 42 in 2 hours"))
        until = parse_when(when, now=self.clock(), tz=reader.tz)
        out = tasks.snooze(session, reader.person.id, task_id, until, now=self.clock())
        return self.card(session, out.task, reader, self._headline(reader, N_("I'll remind you about #%(id)s later."), id=task_id))

    def _comment(self, session, reader, cmd):
        task_id, body = split_id(cmd.args, tasks.TEXT_EMPTY)
        out = tasks.comment(session, reader.person.id, task_id, body, now=self.clock())
        return self.card(session, out.task, reader, self._headline(reader, N_("Comment added to #%(id)s."), id=task_id))

    def _attach(self, session, reader, cmd):
        task_id, url = split_id(cmd.args, N_("Send the link after the number: /attach 42 https://example.com/file"))
        out = tasks.attach_link(session, reader.person.id, task_id, url, now=self.clock())
        return self.card(session, out.task, reader, self._headline(reader, N_("Link attached to #%(id)s."), id=task_id))

    def _link(self, session, reader, cmd):
        task_id, rest = split_id(cmd.args, N_("Name two tasks: /link 42 43"))
        other = parse_id(rest, N_("Name two tasks: /link 42 43"))
        out = tasks.link(session, reader.person.id, task_id, other, now=self.clock())
        return self.card(session, out.task, reader,
                         self._headline(reader, N_("#%(id)s and #%(other)s are linked."), id=task_id, other=other))

    def _settings(self, session, reader, cmd):
        from core.settings_cmd import apply_settings

        reader = apply_settings(session, reader, cmd.args, self.defaults)
        return Message(text=self.render("settings", reader, lang=reader.lang, tz=reader.tz), kind="text")

    def _announce(self, session, reader, cmd):
        closing = ANNOUNCE_CLOSE.match(cmd.args)
        if closing:
            done = announcements.close(session, reader.person.id, int(closing.group(1)), now=self.clock())
            return Message(text=self._headline(reader, N_("Announcement #%(id)s is closed."), id=done.id), kind="text")
        text, post_at = parse_announcement(cmd.args, lambda when: parse_when(when, now=self.clock(), tz=reader.tz))
        made = announcements.create(session, reader.person.id, text, channels=self.channels, now=self.clock(),
                                    post_at=post_at)
        if post_at is None:
            return Message(text=self._headline(reader, N_("Announcement #%(id)s is posted to %(n)s channel(s)."),
                                               id=made.id, n=len(self.channels)), kind="text")
        return Message(text=self._headline(reader, N_("Announcement #%(id)s will be posted on %(when)s."),
                                           id=made.id, when=when(post_at, reader)), kind="text")

    def _rsvp(self, session, reader, cmd):
        parts = cmd.args.split()
        if len(parts) != 2:
            raise BadInput(announcements.BAD_ANSWER)
        made = announcements.answer(session, reader.person.id, parse_id(parts[0], announcements.BAD_ANSWER),
                                    parts[1].lower(), now=self.clock())
        msgid = N_("You're in: #%(id)s.") if parts[1].lower() == "in" else N_("Noted, you can't make it: #%(id)s.")
        return Message(text=self._headline(reader, msgid, id=made.id), kind="text")

    def _invite(self, session, reader, cmd):
        invite = invites.create_invite(session, reader.person.id, now=self.clock())
        link = self.invite_links.get(reader.platform, lambda code: f"/start {code}")(invite.code)
        return Message(text=self.render("invite", reader, link=link, days=invites.VALID_FOR.days), kind="text")

    def _help(self, session, reader, cmd):
        return Message(text=self.render("help", reader, name=reader.person.name), kind="text")

