"""The bus: one way in for every command, whatever built it.

`Bus.handle(command, actor)` opens one unit of work (one transaction), finds
the acting member, runs the command's handler, and commits when it returns;
the Result holds the reply for the actor and the events that happened. A
Refusal anywhere rolls the whole unit back and becomes the reply, in the
actor's language: bad input changes nothing. Handlers are given to the bus
when it is built (the composition root decides which exist); a handler may
hand another command to `uow.dispatch` inside the same unit of work, as the
typed-text handler does with the command it read. The platform update behind
the command, when an adapter recorded it in the inbox (core/infra/inbox.py), is
marked handled in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlmodel import Session

from core.domain.clock import Clock
from core.domain.errors import Refusal
from core.domain.models import Person
from core.infra import inbox
from core.presentation.i18n import normalize
from core.presentation.messages import Message
from core.presentation.render import refusal_text
from core.presentation.views import Reader
from core.services.people import Defaults, get_active, language_of, timezone_of


@dataclass(frozen=True)
class Actor:
    """Who acts, and on which platform the answer is shown."""

    person_id: int
    platform: str = "plain"


@dataclass
class Result:
    """What handling a command gave: the reply for the actor, the events that happened."""

    reply: Message
    events: list = field(default_factory=list)


@dataclass
class UnitOfWork:
    """One transaction: the session, the acting member as a reader, the time, what happened."""

    session: Session
    reader: Reader
    now: datetime
    dispatch: Callable[[Any], Message]
    events: list = field(default_factory=list)

    @property
    def actor_id(self) -> int:
        return self.reader.person.id


Handler = Callable[[UnitOfWork, Any], Message]


class UnknownCommand(LookupError):
    """A command no handler was registered for: a wiring mistake, never a person's."""


class Bus:
    """Commands in, results out; one unit of work per command."""

    def __init__(self, store, clock: Clock, defaults: Defaults, handlers: dict[type, Handler]) -> None:
        self.store, self.clock, self.defaults = store, clock, defaults
        self.handlers = dict(handlers)

    def handle(self, command, actor: Actor) -> Result:
        """Run `command` for `actor` in one transaction; a Refusal is the reply and changes nothing."""
        return self.within(actor, lambda uow: self._run(uow, command))

    def within(self, actor: Actor, work: Callable[[UnitOfWork], Message]) -> Result:
        """One unit of work for `actor` around `work`: the commands' way, and the few entry points
        that are no command yet (a whole form sheet from a modal, a file answering a form)."""
        try:
            with self.store.session() as session:
                uow = UnitOfWork(session, self.reader(session, actor), self.clock(), None)
                uow.dispatch = lambda inner: self._run(uow, inner)
                reply = work(uow)
                mark = inbox.mark_in(session, uow.now)  # the update behind this command: handled with it
            if mark is not None:
                mark.handled = True
            return Result(reply, uow.events)
        except Refusal as exc:
            return Result(Message(text=refusal_text(exc, self.language(actor.person_id), actor.platform),
                                  kind="refusal"))

    def _run(self, uow: UnitOfWork, command) -> Message:
        handler = self.handlers.get(type(command))
        if handler is None:
            raise UnknownCommand(type(command).__name__)
        return handler(uow, command)

    def reader(self, session: Session, actor: Actor) -> Reader:
        """The acting member, with their language, zone and platform."""
        person = get_active(session, actor.person_id)
        return Reader(person, language_of(person, self.defaults), timezone_of(person, self.defaults), actor.platform)

    def language(self, person_id: int | None) -> str:
        """A person's language (the org's for nobody)."""
        with self.store.session() as session:
            person = session.get(Person, person_id) if person_id is not None else None
        return language_of(person, self.defaults) if person else normalize(self.defaults.language)
