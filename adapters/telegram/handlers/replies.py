"""A reply to one of our cards: text becomes a comment, a file becomes an attachment."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message as TgMessage



def replied_task(message: TgMessage, app) -> int | None:
    """The task whose card this message replies to, if any."""
    original = message.reply_to_message
    if original is None or original.from_user is None or not original.from_user.is_bot:
        return None
    return app.chat.task_of_message("telegram", message.chat.id, original.message_id)


async def on_file_reply(message: TgMessage, app, person_id: int, telegram) -> None:
    task_id = replied_task(message, app)
    if task_id is None:
        return
    if message.document:
        doc = message.document
        file_id, name, mime, size = doc.file_id, doc.file_name, doc.mime_type, doc.file_size
    else:
        photo = message.photo[-1]  # the largest size
        file_id, name, mime, size = photo.file_id, f"photo-{photo.file_unique_id}.jpg", "image/jpeg", photo.file_size
    answer = app.chat.attach_file(person_id, task_id, "telegram", file_id=file_id, name=name, mime_type=mime, size=size)
    if message.caption and answer.kind != "refusal":
        answer = app.chat.reply_to_card(person_id, task_id, message.caption, "telegram")
    await telegram.answer(message, answer, person_id)


async def on_text_reply(message: TgMessage, app, person_id: int, telegram) -> None:
    task_id = replied_task(message, app)
    if task_id is None:
        if message.chat.type == "private":
            await telegram.answer(message, app.chat.handle(person_id, message.text, "telegram"), person_id)
        return
    await telegram.answer(message, app.chat.reply_to_card(person_id, task_id, message.text, "telegram"), person_id)


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="replies")
    r.message.register(on_file_reply, F.reply_to_message, F.document | F.photo)
    r.message.register(on_text_reply, F.reply_to_message, F.text, ~F.text.startswith("/"))
    return r
