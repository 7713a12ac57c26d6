"""Values asked for with ForceReply (FSM): a comment's text, a custom snooze time."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message as TgMessage

from adapters.telegram.callbacks import FEATURES, command_of
from adapters.telegram.filters import Magic
from core.chat.taps import answered
from core.infra.offloop import off_loop


class Prompt(StatesGroup):
    waiting = State()  # data: tap, the packed button (a step instance: a reject on an old card stays stale)


async def on_answer(message: TgMessage, state: FSMContext, app, person_id: int, telegram) -> None:
    """The next text from that person in that chat completes the tapped action."""
    data = await state.get_data()
    await state.clear()
    if message.text.strip().lower() in ("/cancel", "/отмена"):
        await telegram.answer(message, await off_loop(app.chat.cancelled, person_id, "telegram"), person_id)
        return
    command = _command(str(data.get("tap") or ""))
    if command is None:  # from an older build, or not ours
        await telegram.answer(message, await off_loop(app.chat.cancelled, person_id, "telegram"), person_id)
        return
    answer = await off_loop(app.chat.run, person_id, answered(command, message.text.strip()), "telegram")
    await telegram.answer(message, answer, person_id)


def _command(packed: str):
    """The command kept while asking (None for data from an older build, or not ours)."""
    feature = FEATURES.get(packed.split(":", 1)[0])
    try:
        return command_of(feature.unpack(packed)) if feature else None
    except (TypeError, ValueError):
        return None


def router() -> Router:
    """A fresh Router (a Router can belong to one Dispatcher only)."""
    r = Router(name="prompts")
    r.message.register(on_answer, StateFilter(Prompt.waiting), Magic(F.text))
    return r
