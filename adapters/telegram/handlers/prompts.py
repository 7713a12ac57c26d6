"""Values asked for with ForceReply (FSM): a comment's text, a custom snooze time."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message as TgMessage

from adapters.telegram.filters import Magic

from core.messages import Button
from core.offloop import off_loop



class Prompt(StatesGroup):
    waiting = State()  # data: action, task_id, arg (a step instance: a reject on an old card stays stale)


async def on_answer(message: TgMessage, state: FSMContext, app, person_id: int, telegram) -> None:
    """The next text from that person in that chat completes the tapped action."""
    data = await state.get_data()
    await state.clear()
    if message.text.strip().lower() in ("/cancel", "/отмена"):
        await telegram.answer(message, await off_loop(app.chat.cancelled, person_id, "telegram"), person_id)
        return
    button = Button(label="", action=data["action"], task_id=int(data["task_id"]), arg=str(data.get("arg") or ""))
    command = button.prompt_command(message.text.strip())
    await telegram.answer(message, await off_loop(app.chat.handle, person_id, command, "telegram"), person_id)


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="prompts")
    r.message.register(on_answer, StateFilter(Prompt.waiting), Magic(F.text))
    return r
