"""Commands (and, in private chats, any text): the same words as everywhere, answered in place."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message as TgMessage

from adapters.telegram.filters import Magic
from core.infra.offloop import off_loop



def addressed_elsewhere(text: str, bot_username: str) -> bool:
    """`/task@other_bot …` in a group is for another bot."""
    head = text.split(maxsplit=1)[0] if text else ""
    return "@" in head and head.split("@", 1)[1].lower() != bot_username.lower()


async def on_text(message: TgMessage, app, person_id: int, telegram, bot_username: str) -> None:
    """A command anywhere, or plain text in a private chat, goes to the chat core."""
    text = message.text or ""
    if message.chat.type != "private" and not text.startswith("/"):
        return  # group chatter that is not for us (privacy mode usually hides it anyway)
    if text.startswith("/") and addressed_elsewhere(text, bot_username):
        return
    answer = await off_loop(app.chat.handle, person_id, text, "telegram")
    await telegram.answer(message, answer, person_id)


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="commands")
    r.message.register(on_text, Magic(F.text))
    return r
