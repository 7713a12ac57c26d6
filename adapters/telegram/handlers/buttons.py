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

from adapters.telegram.callbacks import TaskAction
from adapters.telegram.handlers.prompts import Prompt
from core.messages import ACTIONS, FILLING, Message

TOAST_LIMIT = 200
TAG = re.compile(r"<[^>]+>")


def toast(text: str) -> str:
    """The first line of an answer as a plain-text toast."""
    first = html.unescape(TAG.sub("", text)).strip().split("\n", 1)[0]
    return first[:TOAST_LIMIT]


async def on_tap(query: CallbackQuery, callback_data: TaskAction, state: FSMContext, app, person_id: int,
                 telegram) -> None:
    if callback_data.action not in ACTIONS:
        await query.answer(app.chat.stale_button(person_id), show_alert=True)
        return
    button = callback_data.button()
    command = button.command()
    if command is None:  # the action needs words first: ask with ForceReply
        await query.answer()
        await state.set_state(Prompt.waiting)
        await state.update_data(action=button.action, task_id=button.task_id, arg=button.arg)
        if query.message:
            thread = query.message.message_thread_id if query.message.is_topic_message else None
            await telegram.prompt(query.message.chat.id, app.chat.prompt_text(person_id, button), thread_id=thread)
        return
    answer = app.chat.handle(person_id, command, "telegram")
    await query.answer(toast(answer.text), show_alert=answer.kind == "refusal")
    if button.action in FILLING or (answer.kind == "text" and answer.buttons):  # a question (Done may ask one)
        if answer.kind != "refusal":
            await send_below(query, answer, person_id, telegram)
        return
    if answer.kind == "card" and query.message and query.message.chat:
        card = answer.redraw  # the answer's own card, rendered with it: no second transaction
        if card is None or card.task_id != button.task_id:
            card = app.chat.show_card(person_id, button.task_id, "telegram")
        await telegram.update(str(query.message.chat.id), str(query.message.message_id), card)


async def send_below(query: CallbackQuery, answer: Message, person_id: int, telegram) -> None:
    """The answer as a new message where the tapped one is (its topic too), else in private."""
    if isinstance(query.message, TgMessage):
        await telegram.answer(query.message, answer, person_id)
    else:  # too old to be reached: the person's private chat with the bot
        await telegram.post(query.from_user.id, answer)


async def on_unknown_tap(query: CallbackQuery, app, person_id: int) -> None:
    """Data we never made (forged, or from an older version): refuse politely."""
    await query.answer(app.chat.stale_button(person_id), show_alert=True)


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="buttons")
    r.callback_query.register(on_tap, TaskAction.filter())
    r.callback_query.register(on_unknown_tap)
    return r
