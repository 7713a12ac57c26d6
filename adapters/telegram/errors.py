"""An update whose handling raised: logged with the update, and the person is told.

aiogram catches the exception and hands it to the Dispatcher's `errors`
observer; this handler logs it once with the update's JSON, answers the person
in their language that nothing was changed (an alert on a tap, a message
otherwise), and marks the error handled, so polling and the webhook go on.
"""
from __future__ import annotations

import logging

from aiogram import Dispatcher
from aiogram.types import ErrorEvent

from core.infra.offloop import off_loop

log = logging.getLogger(__name__)
UPDATE_LOGGED = 4000  # characters of the update's JSON kept in the log line


async def on_error(event: ErrorEvent, app) -> bool:
    """Log, apologise, and carry on."""
    update = event.update
    log.error("telegram update %s failed: %s", update.update_id,
              update.model_dump_json(exclude_none=True)[:UPDATE_LOGGED], exc_info=event.exception)
    source = update.callback_query or update.message or update.edited_message
    user = getattr(source, "from_user", None)
    if user is None or user.is_bot:
        return True
    text = (await off_loop(app.chat.trouble, language=user.language_code, telegram_id=user.id)).text
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except Exception:  # noqa: BLE001 - Telegram itself may be what failed
        log.warning("could not tell telegram user %s about the failure", user.id, exc_info=True)
    return True


def register(dp: Dispatcher) -> None:
    """Every error in every router ends here."""
    dp.errors.register(on_error)
