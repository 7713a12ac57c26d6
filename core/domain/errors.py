"""Typed refusals: what the core says when it will not do something.

A refusal carries an English message id (a gettext msgid) and its parameters,
never a rendered sentence, so each adapter can say it in the reader's language.
"""
from __future__ import annotations


class Refusal(Exception):
    """A use case refused: nothing was changed, and the user can act on why."""

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params


class NotFound(Refusal):
    """The thing does not exist, or the actor may not see it (we do not say which)."""


class Forbidden(Refusal):
    """The actor may see the thing but not do this to it."""


class BadInput(Refusal):
    """The input could not be read: a time, a mention, an oversized text."""


class UnknownPerson(Refusal):
    """Someone who is not in the org wrote to the bot."""
