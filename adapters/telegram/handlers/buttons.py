"""Inline-button taps: answered at once with a toast, then the card is redrawn in place.

Callback data is never trusted: the core checks that the task exists, that
the person may see it and may do this to it; a forged or stale tap changes
nothing and the toast says why. A tap while filling a form is no tap on a
card: its answer (the next question, the summary, the sent request) comes as
a new message below, as if the person had typed.
"""
from __future__ import annotations

import html
import re

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.types import Message as TgMessage

from adapters.telegram.callbacks import FEATURES, command_of
from adapters.telegram.handlers.prompts import Prompt
from core.infra.offloop import off_loop
from core.presentation.messages import Button, Message
from core.services.commands import FILLING, asks

TOAST_LIMIT = 200
TAG = re.compile(r"<[^>]+>")


def toast(text: str) -> str:
    """The first line of an answer as a plain-text toast."""
    first = html.unescape(TAG.sub("", text)).strip().split("\n", 1)[0]
    return first[:TOAST_LIMIT]


async def on_tap(query: CallbackQuery, callback_data, state: FSMContext, app, person_id: int, telegram) -> None:
    """Run the tapped button's command (asking first what it needs), then redraw or answer below."""
    command = command_of(callback_data)
    if command is None:
        await query.answer(await off_loop(app.chat.stale_button, person_id), show_alert=True)
        return
    if asks(command):  # the command needs words first: ask with ForceReply
        await query.answer()
        await state.set_state(Prompt.waiting)
        await state.update_data(tap=callback_data.pack())
        if query.message:
            thread = query.message.message_thread_id if query.message.is_topic_message else None
            prompt = await off_loop(app.chat.prompt_text, person_id, Button("", command))
            await telegram.prompt(query.message.chat.id, prompt, thread_id=thread)
        return
    answer = await off_loop(app.chat.run, person_id, command, "telegram")
    await query.answer(toast(answer.text), show_alert=answer.kind == "refusal")
    if isinstance(command, FILLING) or (answer.kind == "text" and answer.buttons):  # a question (Done may ask one)
        if answer.kind != "refusal":
            await send_below(query, answer, person_id, telegram)
        return
    if answer.kind == "card" and query.message and query.message.chat:
        card = answer.redraw  # the answer's own card, rendered with it: no second transaction
        if card is None or card.task_id != command.task_id:
            card = await off_loop(app.chat.show_card, person_id, command.task_id, "telegram")
        await telegram.update(str(query.message.chat.id), str(query.message.message_id), card)


async def send_below(query: CallbackQuery, answer: Message, person_id: int, telegram) -> None:
    """The answer as a new message where the tapped one is (its topic too), else in private."""
    if isinstance(query.message, TgMessage):
        await telegram.answer(query.message, answer, person_id)
    else:  # too old to be reached: the person's private chat with the bot
        await telegram.post(query.from_user.id, answer)


async def on_unknown_tap(query: CallbackQuery, app, person_id: int) -> None:
    """Data we never made (forged, or from an older version): refuse politely."""
    await query.answer(await off_loop(app.chat.stale_button, person_id), show_alert=True)


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="buttons")
    for feature in FEATURES.values():
        r.callback_query.register(on_tap, feature.filter())
    r.callback_query.register(on_unknown_tap)
    return r
