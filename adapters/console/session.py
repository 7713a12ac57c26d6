"""A console conversation: who is typing, numbered buttons, replies to cards.

`ConsoleSession.type(line)` is the whole adapter: it turns a typed line into a
core call and returns what the screen shows. The REPL and the dialog tests
both drive it.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass

from sqlmodel import select

from core.chat.taps import answered
from core.domain.models import Person
from core.presentation.i18n import gettext_for, normalize, N_
from core.presentation.messages import CANCELLED, PROMPTS, Button, Message
from core.services import commands as c

log = logging.getLogger(__name__)
AS_COMMAND = re.compile(r"^/as(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
REPLY = re.compile(r"^reply\s+#?(\d{1,12})\s+(.+)$", re.IGNORECASE | re.DOTALL)
# A terminal cannot send files: `/file <name>` stands for sending one (to answer a form's file
# question), `reply #42 /file <name>` for sending one as a reply to a card (an attachment).
FILE = re.compile(r"^/file\s+(\S.{0,199})$", re.IGNORECASE)
NOT_YOUR_BUTTON = N_("Button %(n)s is on %(name)s's screen; switch with /as %(handle)s to tap it.")
NO_SUCH_BUTTON = N_("There is no button %(n)s on the screen.")
WHO = N_("You are %(name)s (@%(handle)s). Switch with /as <person>: %(people)s")
UNKNOWN_AS = N_("Nobody called \"%(handle)s\" here. People: %(people)s")


def asks_for_text(message: Message) -> bool:
    """A form question with no answers to tap (only Skip, Back, Cancel): it wants typing, and a
    typed 3 is three nights, not button 3, so its keys are shown as the commands they run."""
    kinds = {type(button.command) for row in message.buttons for button in row}
    return any(issubclass(k, c.FILLING) for k in kinds) and not kinds & {c.PickAnswer, c.SubmitForm}


# The command a form's key stands for, as it is typed (shown when digits are the answer).
TYPED = {c.SkipField: "/skip", c.BackField: "/back", c.CancelForm: "/cancel", c.SubmitForm: "/submit"}


@dataclass
class Tap:
    button: Button
    owner_id: int | None  # None: on a channel post, anyone may tap


class ConsoleSession:
    """One terminal, any number of people: `/as <person>` switches who types."""

    def __init__(self, app, handle: str | None = None) -> None:
        self.app = app
        self.taps: dict[int, Tap] = {}
        self.pending: Tap | None = None
        # People whose last answer was a form question to type (a number, a date):
        # their digits are that answer, not a tap on some older button.
        self.typing: set[int] = set()
        self.actor = self._person(handle) if handle else self._first_admin()

    # ----- people ------------------------------------------------------------

    def _person(self, handle: str) -> Person | None:
        with self.app.store.session() as session:
            return session.exec(select(Person).where(Person.handle == handle.lower().lstrip("@"),
                                                     Person.active == True)).first()  # noqa: E712

    def _first_admin(self) -> Person | None:
        with self.app.store.session() as session:
            people = session.exec(select(Person).where(Person.active == True).order_by(  # noqa: E712
                Person.is_admin.desc(), Person.id)).all()
        return people[0] if people else None

    def _people(self) -> str:
        with self.app.store.session() as session:
            handles = session.exec(select(Person.handle).where(Person.active == True).order_by(Person.handle)).all()  # noqa: E712
        return ", ".join(handles)

    def _(self, msgid: str, **params) -> str:
        lang = normalize(self.actor.language if self.actor else None, normalize(self.app.defaults.language))
        return gettext_for(lang)(msgid, **params)

    # ----- typing ------------------------------------------------------------

    def type(self, line: str) -> str:
        """Handle one typed line as the current person; return what they see. A line whose
        handling fails is logged and answered with an apology; the terminal goes on."""
        try:
            return self._type(line)
        except Exception:  # noqa: BLE001 - one bad line must never end the chat
            log.exception("console: handling %r as %s failed", line[:500], self.actor.handle if self.actor else None)
            return self.app.chat.trouble(self.actor.id if self.actor else None).text

    def _type(self, line: str) -> str:
        line = line.rstrip("\n")
        switch = AS_COMMAND.match(line.strip())
        if switch:
            return self._switch((switch.group(1) or "").strip())
        if self.actor is None:
            return self._("Nobody is in the org yet. Add people to the org file.")
        if self.pending is not None:
            return self._answer_prompt(line)
        if line.strip().isdigit() and len(line.strip()) < 7 and self.actor.id not in self.typing:
            return self._tap(int(line.strip()))
        reply = REPLY.match(line.strip())
        if reply:
            task_id, text = int(reply.group(1)), reply.group(2)
            file = FILE.match(text.strip())
            if file:
                return self.show(self.app.chat.attach_file(self.actor.id, task_id, "console", **self._file(file)))
            return self.show(self.app.chat.reply_to_card(self.actor.id, task_id, text, "console"))
        file = FILE.match(line.strip())
        if file:
            return self.show(self.app.chat.send_file(self.actor.id, "console", **self._file(file)))
        return self.show(self.app.chat.handle(self.actor.id, line, "console"))

    def _file(self, found: re.Match) -> dict:
        """A stand-in for a file sent from this terminal."""
        name = found.group(1).strip()
        return {"file_id": f"console-{uuid.uuid4().hex[:16]}", "name": name, "mime_type": None, "size": None}

    def _switch(self, handle: str | None) -> str:
        if not handle:
            return self._(WHO, name=self.actor.name, handle=self.actor.handle, people=self._people())
        person = self._person(handle)
        if person is None:
            return self._(UNKNOWN_AS, handle=handle[:64], people=self._people())
        self.actor, self.pending = person, None
        return self._(WHO, name=person.name, handle=person.handle, people=self._people())

    def _tap(self, number: int) -> str:
        tap = self.taps.get(number)
        if tap is None:
            return self._(NO_SUCH_BUTTON, n=number)
        if tap.owner_id is not None and tap.owner_id != self.actor.id:
            with self.app.store.session() as session:
                owner = session.get(Person, tap.owner_id)
            return self._(NOT_YOUR_BUTTON, n=number, name=owner.name, handle=owner.handle)
        if tap.button.asks:
            self.pending = tap
            return self._(PROMPTS[type(tap.button.command)], id=tap.button.task_id)
        return self.show(self.app.chat.run(self.actor.id, tap.button.command, "console"))

    def _answer_prompt(self, line: str) -> str:
        tap, self.pending = self.pending, None
        if line.strip().lower() == "/cancel":
            return self._(CANCELLED)
        return self.show(self.app.chat.run(self.actor.id, answered(tap.button.command, line.strip()), "console"))

    # ----- showing -----------------------------------------------------------

    def show(self, message: Message, owner: Person | None = None) -> str:
        """A message's text with its buttons numbered for tapping (by its reader only)."""
        if owner is None and not (message.kind == "refusal" and not message.buttons):
            # an answer to what the actor typed (a bare refusal leaves the question asked)
            self.typing.discard(self.actor.id)
            if asks_for_text(message):
                self.typing.add(self.actor.id)
        return self._numbered(message, (owner or self.actor).id)

    def channel_post(self, chat_id: str, message: Message) -> str:
        """A post to the team channel; its buttons can be tapped by whoever is typing."""
        return f"── #{chat_id} ──\n" + self._numbered(message, None)

    def _numbered(self, message: Message, owner_id: int | None) -> str:
        if asks_for_text(message):  # digits are the answer here: show the commands the keys stand for
            keys = [f"[{TYPED.get(type(button.command), '?')}] {button.label}" for row in message.buttons
                    for button in row]
            return message.text + "\n" + "  ".join(keys)
        keys = []
        for button in (button for row in message.buttons for button in row):
            number = len(self.taps) + 1
            self.taps[number] = Tap(button, owner_id)
            keys.append(f"[{number}] {button.label}")
        return message.text + ("\n" + "  ".join(keys) if keys else "")

    def notice(self, person: Person, message: Message) -> str:
        """A notice delivered to someone, framed with whom it is for."""
        return f"── @{person.handle} ({person.name}) ──\n{self.show(message, person)}"
