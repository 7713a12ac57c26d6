"""`/start <code>`: a stranger joins with an invite; a member just gets the help."""
from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message as TgMessage

from core.infra.offloop import off_loop



async def on_start_with_code(message: TgMessage, command: CommandObject, app, person_id: int | None, telegram) -> None:
    if person_id is not None:
        await telegram.answer(message, await off_loop(app.chat.handle, person_id, "/help", "telegram"), person_id)
        return
    user = message.from_user
    new_id, answer = await off_loop(
        app.chat.join, command.args or "", "telegram", name=user.full_name, language=user.language_code,
        handle_hint=user.username or f"tg{user.id}", telegram_id=user.id,
        telegram_username=(user.username or "").lower() or None,
    )
    await telegram.answer(message, answer, new_id)


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="joining")
    r.message.register(on_start_with_code, CommandStart(deep_link=True))
    return r
