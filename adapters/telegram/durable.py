"""Telegram's updates through the inbox: recorded before Telegram hears "got it", handled once.

Polling: aiogram's own loop moves the offset past a whole batch before its
updates are handled, so a crash loses what was fetched. Here one `getUpdates`
batch is recorded in one transaction first, and only the next call's offset
tells Telegram it was received. A batch that cannot be recorded (the store
refuses writes) is not confirmed: Telegram keeps it, and the loop asks again
after a pause; meanwhile the people who wrote are told once that nothing
could be saved.

Webhook: the update is recorded, then answered 200 and handled in the
background; an update that cannot be recorded gets a 503, so Telegram sends
it again later.

Either way the update is fed to the product's dispatcher inside
`inbox.handling(entry_id)`: the unit of work of its command marks it handled
in its own transaction. An update recorded twice (a redelivery) is not handled
again. `replay` feeds an update a dead worker left (core/infra/inbox.py).
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from sqlalchemy.exc import SQLAlchemyError

from core.infra import inbox
from core.infra.inbox import Inbox, Stale
from core.infra.offloop import off_loop
from core.presentation.messages import NOT_SAVED

log = logging.getLogger(__name__)
POLL_TIMEOUT_S = 30  # Telegram holds a getUpdates this long when there is nothing new
RECORD_RETRY_S = 5.0  # a batch the store would not take is asked for again after this pause
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)
RECORDED = "recorded"  # handler data: the inbox already dropped a redelivery (DedupeUpdates steps aside)


def key(update_id: int) -> str:
    return f"telegram:{update_id}"


class DurableUpdates:
    """Records, acknowledges and feeds Telegram updates; replays what a dead worker left."""

    def __init__(self, dp: Dispatcher, bot: Bot, box: Inbox) -> None:
        self.dp, self.bot, self.inbox = dp, bot, box
        self._running: set[asyncio.Task] = set()
        self._told: set[int] = set()  # updates whose sender already heard that nothing could be saved
        self._store_failing = False
        self._contended = False  # the last record failed only because another writer held the store

    # ----- recording -----------------------------------------------------------

    async def record(self, updates: list[Update], raws: list[str] | None = None) -> list[int | None] | None:
        """The inbox ids of a batch (None for a redelivery); None for the whole batch when the store
        refused it (logged once until it takes writes again)."""
        raws = raws or [u.model_dump_json(exclude_none=True, by_alias=True) for u in updates]
        try:
            ids = await off_loop(self.inbox.record_many, "telegram", [(key(u.update_id), raw)
                                                                        for u, raw in zip(updates, raws)])
        except SQLAlchemyError as exc:
            self._contended = inbox.contended(exc)
            if self._contended:  # another writer held the store: Telegram sends it again soon
                log.info("telegram: updates not recorded yet, the store is busy: %s", exc)
                return None
            if not self._store_failing:
                log.error("telegram: updates cannot be recorded, Telegram keeps them until they can: %s", exc)
            self._store_failing = True
            return None
        if self._store_failing:
            log.warning("telegram: updates are recorded again")
            self._store_failing, self._told = False, set()
        return ids

    async def tell_unsaved(self, updates: list[Update]) -> None:
        """Tell the people behind updates the store refused, once each, that nothing was saved
        (Telegram sends the updates again later; they are handled then). They are not handled now:
        a change that did get through would be made twice when the update comes back."""
        if self._contended:  # only busy, not refusing: nothing to tell anyone
            return
        for update in updates:
            source = update.callback_query or update.message
            user = getattr(source, "from_user", None)
            if update.update_id in self._told or user is None or user.is_bot:
                continue
            self._told.add(update.update_id)
            app = self.dp["app"]
            text = (await off_loop(app.chat.trouble, language=user.language_code, telegram_id=user.id,
                                   saying=NOT_SAVED)).text
            try:
                if update.callback_query is not None:
                    await update.callback_query.answer(text[:200], show_alert=True)
                else:
                    await self.bot.send_message(update.message.chat.id, text)
            except Exception:  # noqa: BLE001 - Telegram may be failing too
                log.warning("could not tell telegram user %s that nothing was saved", user.id, exc_info=True)

    # ----- handling -----------------------------------------------------------

    def start(self, entry_id: int, update: Update) -> None:
        """Handle a recorded update in the background (as aiogram's polling and webhook do)."""
        task = asyncio.create_task(self.handle(entry_id, update))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def handle(self, entry_id: int, update: Update) -> None:
        """Feed one recorded update; mark it handled if no unit of work did."""
        with inbox.handling(entry_id) as mark:
            try:
                await self._feed(update, **{RECORDED: True})
            except Exception as exc:  # noqa: BLE001 - aiogram's error observer missed it: try again later
                log.exception("telegram update %s failed; it will be handled again", update.update_id)
                await _quietly(off_loop(self.inbox.give_back, entry_id, repr(exc)))
                return
            if not mark.handled:
                await _quietly(off_loop(self.inbox.handled, entry_id))

    async def _feed(self, update: Update, **data: Any) -> None:
        result = await self.dp.feed_update(self.bot, update, **data)
        if isinstance(result, TelegramMethod):
            await self.dp.silent_call_request(bot=self.bot, result=result)

    async def replay(self, stale: Stale) -> None:
        """An update a dead worker recorded and did not finish: handled here, once, in the background
        like any other (its answer may wait for the chat's pace; the next replay need not)."""
        update = Update.model_validate(json.loads(stale.payload), context={"bot": self.bot})
        log.warning("telegram update %s handled again (attempt %s)", update.update_id, stale.attempts)
        self.start(stale.id, update)

    async def settle(self, grace: float) -> None:
        """A graceful stop: let the updates being handled finish (for at most `grace` seconds)."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)

    # ----- polling -----------------------------------------------------------

    async def poll(self, stop: asyncio.Event, allowed_updates: list[str] | None = None,
                   timeout: int = POLL_TIMEOUT_S) -> None:
        """Long-poll until `stop`: fetch, record, then confirm (the next offset) and handle."""
        offset: int | None = None
        backoff = Backoff(config=BACKOFF)
        while not stop.is_set():
            fetch = asyncio.ensure_future(self.bot.get_updates(offset=offset, timeout=timeout,
                                                               allowed_updates=allowed_updates))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                break
            try:
                updates = fetch.result()
            except Exception as exc:  # noqa: BLE001 - the network or Telegram: wait and ask again
                log.warning("telegram getUpdates failed (%s); again in %.1f s", exc, backoff.current_delay)
                await _sleep(stop, next(backoff))
                continue
            backoff.reset()
            if not updates:
                continue
            ids = await self.record(updates)
            if ids is None:
                await self.tell_unsaved(updates)
                await _sleep(stop, RECORD_RETRY_S)
                continue  # the same offset: Telegram sends the batch again
            offset = updates[-1].update_id + 1
            for update, entry_id in zip(updates, ids):
                if entry_id is not None:
                    self.start(entry_id, update)
        await self._confirm(offset)

    async def _confirm(self, offset: int | None) -> None:
        """Tell Telegram the last batch arrived (it is recorded), so a restart does not fetch it again
        (it would only be dropped as a redelivery)."""
        if offset is None:
            return
        try:
            await self.bot.get_updates(offset=offset, timeout=0, limit=1)
        except Exception:  # noqa: BLE001 - not confirmed: the next start fetches and drops them
            log.info("telegram: could not confirm the last updates at stop", exc_info=True)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


async def _quietly(call) -> None:
    """A bookkeeping write that may fail with the store: the row is then handled again later."""
    try:
        await call
    except SQLAlchemyError:
        log.warning("inbox bookkeeping failed; the update may be handled again", exc_info=True)
