"""Service messages: a group that became a supergroup keeps its cards."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message as TgMessage

from adapters.telegram.filters import Magic
from core.infra.offloop import off_loop



async def on_migrate(message: TgMessage, app) -> None:
    await off_loop(app.chat.move_chat, "telegram", message.chat.id, message.migrate_to_chat_id)


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="service")
    r.message.register(on_migrate, Magic(F.migrate_to_chat_id))
    return r
