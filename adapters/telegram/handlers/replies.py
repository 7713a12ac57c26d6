"""A reply to one of our cards: text becomes a comment, a file becomes an attachment.
A file sent in private, not as a reply, answers the form question asking for one."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message as TgMessage

from adapters.telegram.filters import Magic
from core.infra.offloop import off_loop



async def replied_task(message: TgMessage, app) -> int | None:
    """The task whose card this message replies to, if any."""
    original = message.reply_to_message
    if original is None or original.from_user is None or not original.from_user.is_bot:
        return None
    return await off_loop(app.chat.task_of_message, "telegram", message.chat.id, original.message_id)


def file_of(message: TgMessage) -> tuple[str, str | None, str | None, int | None]:
    """(file id, name, MIME type, size) of a document, or of a photo's largest size."""
    if message.document:
        doc = message.document
        return doc.file_id, doc.file_name, doc.mime_type, doc.file_size
    photo = message.photo[-1]
    return photo.file_id, f"photo-{photo.file_unique_id}.jpg", "image/jpeg", photo.file_size


async def on_private_file(message: TgMessage, app, person_id: int, telegram) -> None:
    file_id, name, mime, size = file_of(message)
    answer = await off_loop(app.chat.send_file, person_id, "telegram", file_id=file_id, name=name, mime_type=mime,
                            size=size)
    await telegram.answer(message, answer, person_id)


async def on_file_reply(message: TgMessage, app, person_id: int, telegram) -> None:
    task_id = await replied_task(message, app)
    if task_id is None:
        if message.chat.type == "private":
            await on_private_file(message, app, person_id, telegram)
        return
    file_id, name, mime, size = file_of(message)
    answer = await off_loop(app.chat.attach_file, person_id, task_id, "telegram", file_id=file_id, name=name,
                            mime_type=mime, size=size)
    if message.caption and answer.kind != "refusal":
        answer = await off_loop(app.chat.reply_to_card, person_id, task_id, message.caption, "telegram")
    await telegram.answer(message, answer, person_id)


async def on_text_reply(message: TgMessage, app, person_id: int, telegram) -> None:
    task_id = await replied_task(message, app)
    if task_id is None:
        if message.chat.type == "private":
            await telegram.answer(message, await off_loop(app.chat.handle, person_id, message.text, "telegram"),
                                  person_id)
        return
    answer = await off_loop(app.chat.reply_to_card, person_id, task_id, message.text, "telegram")
    await telegram.answer(message, answer, person_id)


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="replies")
    r.message.register(on_file_reply, Magic(F.reply_to_message & (F.document | F.photo)))
    r.message.register(on_private_file, Magic((F.chat.type == "private") & (F.document | F.photo)))
    r.message.register(on_text_reply, Magic(F.reply_to_message & F.text & ~F.text.startswith("/")))
    return r
