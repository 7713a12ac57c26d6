"""Dialog tests as tables of turns: who types what, and what each person then sees.

Everything goes through the console adapter and the real outbox delivery, so
a turn shows exactly what a person at the terminal would see.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from adapters.console.session import ConsoleSession


@dataclass
class Turn:
    who: str
    says: str
    sees: dict[str, list[str]] = field(default_factory=dict)  # person -> substrings in what they saw
    not_sees: dict[str, list[str]] = field(default_factory=dict)


class Dialog:
    """A console session shared by the whole team, as in `teamflow console`."""

    def __init__(self, app, messenger) -> None:
        self.app, self.messenger = app, messenger
        self.console = ConsoleSession(app)

    def say(self, who: str, text: str) -> dict[str, str]:
        """`who` types `text`; returns what each person saw during the turn."""
        if self.console.actor is None or self.console.actor.handle != who:
            self.console.type(f"/as {who}")
        screens = {who: self.console.type(text)}
        asyncio.run(self.app.delivery.drain())
        for handle, messages in list(self.messenger.inbox.items()):
            delivered = "\n".join(m.text for m in self.messenger.take(handle))
            screens[handle] = (screens.get(handle, "") + "\n" + delivered).strip()
        return screens

    def play(self, turns: list[Turn]) -> None:
        """Play every turn and check each person's screen; nobody unnamed hears anything."""
        for number, turn in enumerate(turns, 1):
            screens = self.say(turn.who, turn.says)
            where = f"turn {number} ({turn.who}: {turn.says!r})"
            for person, expected in turn.sees.items():
                for text in expected:
                    assert text in screens.get(person, ""), f"{where}: {person} should see {text!r}; saw:\n{screens.get(person, '')}"
            for person, unexpected in turn.not_sees.items():
                for text in unexpected:
                    assert text not in screens.get(person, ""), f"{where}: {person} should not see {text!r}"
            heard = set(screens) - {turn.who}
            assert heard <= set(turn.sees), f"{where}: unexpected notices to {heard - set(turn.sees)}: {screens}"
