"""The console's outbound side: notices land in per-person inboxes and on screen."""
from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Callable

from core.domain.models import Person
from core.infra.outbox import Sent
from core.presentation.messages import Message


class ConsoleMessenger:
    """Reaches every member; keeps what each one received."""

    platform = "console"

    def __init__(self, on_message: Callable[[Person, Message], None] | None = None) -> None:
        self.inbox: dict[str, list[Message]] = defaultdict(list)
        self.on_message = on_message
        self.on_channel: Callable[[str, Message], None] | None = None
        self._ids = itertools.count(1)

    def reaches(self, person: Person) -> bool:
        return True

    async def send(self, person: Person, message: Message) -> Sent:
        self.inbox[person.handle].append(message)
        if self.on_message:
            self.on_message(person, message)
        return Sent(self.platform, person.handle, str(next(self._ids)))

    async def update(self, chat_id: str, message_id: str, message: Message) -> None:
        """A terminal cannot redraw what it printed: an announcement's new counts are
        printed again; a card is fresh in the next notice anyway."""
        if message.announcement_id:
            await self.send_to_chat(chat_id, message)

    async def send_to_chat(self, chat_id: str, message: Message) -> Sent:
        """The console's one channel: everyone at the terminal sees it."""
        self.inbox[f"#{chat_id}"].append(message)
        if self.on_channel:
            self.on_channel(chat_id, message)
        return Sent(self.platform, chat_id, str(next(self._ids)))

    def take(self, handle: str) -> list[Message]:
        """What a person received since the last look (and forget it)."""
        return self.inbox.pop(handle, [])
