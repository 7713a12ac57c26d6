"""Outer middlewares: drop a repeated update, and find the member behind every update.

The member (or None) reaches handlers as `person_id`; handlers for strangers
are explicit (joining with an invite), everything else answers them with one
polite message on how to ask for access.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from core.i18n import gettext_for, normalize
from core.identity import telegram_member
from core.people import NOT_A_MEMBER

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DedupeUpdates(BaseMiddleware):
    """Telegram may deliver an update again (same update_id): handle it once."""

    def __init__(self, seen) -> None:
        self.seen = seen  # core.dedupe.MemorySeen, or RedisSeen shared by several workers

    async def __call__(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        if not await self.seen.first_time(f"telegram:{event.update_id}"):
            return None
        return await handler(event, data)


class ResolveMember(BaseMiddleware):
    """Puts `person_id` (or None for strangers) into the handler data."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        if user is None or user.is_bot:
            return None
        app = data["app"]
        with app.store.session() as session:
            person = telegram_member(session, user.id, user.username, user.language_code, app.clock())
            data["person_id"] = person.id if person else None
        if data["person_id"] is None and not _may_be_stranger(event):
            return await _turn_away(event, app, user.language_code)
        return await handler(event, data)


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
