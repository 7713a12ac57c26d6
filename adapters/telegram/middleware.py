"""Outer middlewares: drop a repeated update, and find the member behind every update.

The member (or None) reaches handlers as `person_id`, looked up on a database
thread by a read that writes only on first contact or a new language hint,
and remembered for a minute (the lookup was most of the cost of an update
before its handler; a member removed from the org file meanwhile is refused
by the core with the same words); handlers for strangers
are explicit (joining with an invite), everything else answers them with one
polite message on how to ask for access.
"""
from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from core.infra.offloop import off_loop_read
from core.presentation.i18n import gettext_for, normalize
from core.services.identity import telegram_member_id
from core.services.people import NOT_A_MEMBER

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
MEMBER_TTL_S = 60.0


class DedupeUpdates(BaseMiddleware):
    """Telegram may deliver an update again (same update_id): handle it once."""

    def __init__(self, seen) -> None:
        self.seen = seen  # core.infra.dedupe.MemorySeen, or RedisSeen shared by several workers

    async def __call__(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        if data.get("recorded"):  # the inbox recorded it once and dropped any redelivery (durable.py)
            return await handler(event, data)
        if not await self.seen.first_time(f"telegram:{event.update_id}"):
            return None
        return await handler(event, data)


class ResolveMember(BaseMiddleware):
    """Puts `person_id` (or None for strangers) into the handler data."""

    def __init__(self, ttl_s: float = MEMBER_TTL_S, clock=time.monotonic) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        # (user id, username, language) -> (person id, when looked up); members only, so a
        # stranger who joins with an invite is found at once. A new username or language misses.
        self._known: dict[tuple, tuple[int, float]] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        if user is None or user.is_bot:
            return None
        data["person_id"] = await self.member(data["app"], user)
        if data["person_id"] is None and not _may_be_stranger(event):
            return await _turn_away(event, data["app"], user.language_code)
        return await handler(event, data)

    async def member(self, app, user) -> int | None:
        """The member's id: remembered, else looked up on a database thread."""
        key = (user.id, user.username, user.language_code)
        kept = self._known.get(key)
        if kept and self.clock() - kept[1] < self.ttl_s:
            return kept[0]
        person_id = await off_loop_read(telegram_member_id, app.store, user.id, user.username, user.language_code,
                                   app.clock())
        if person_id is not None:
            self._known[key] = (person_id, self.clock())
        return person_id


def _may_be_stranger(event: TelegramObject) -> bool:
    """Only `/start <code>` (joining with an invite) and service messages are for strangers."""
    if not isinstance(event, Message):
        return False
    return (event.text or "").startswith("/start ") or event.migrate_to_chat_id is not None


async def _turn_away(event: TelegramObject, app, language_code: str | None) -> None:
    text = gettext_for(normalize(language_code, app.defaults.language))(NOT_A_MEMBER)
    if isinstance(event, CallbackQuery):
        await event.answer(text[:200], show_alert=True)
    elif isinstance(event, Message) and (event.chat.type == "private" or (event.text or "").startswith("/")):
        await event.answer(text)
