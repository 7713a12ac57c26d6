"""Magic filters (`F.text`, `F.reply_to_message`…) checked on the event loop.

aiogram runs a filter that is not a coroutine function through
`asyncio.to_thread` (dispatcher/event/handler.py, CallableObject.call): every
`F.…` filter and a bare State is a thread hop per check, 7 per /task update
before this module. Resolving a magic filter is attribute access on the
update, far cheaper than the hop, so `Magic` wraps it in aiogram's own async
`Filter`; states go through aiogram's `StateFilter` for the same reason.
"""
from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Magic(Filter):
    """A magic filter resolved in place, as a coroutine (no thread hop)."""

    __slots__ = ("magic",)

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)

    def __str__(self) -> str:
        return self._signature_to_string(magic=self.magic)
