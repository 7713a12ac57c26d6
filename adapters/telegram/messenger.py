"""Telegram's outbound side: every send and edit paced within Telegram's limits.

Limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
about 30 messages a second overall, one a second per chat, 20 a minute per
group. A 429 still happens now and then; its retry_after is honoured by
blocking that scope and by handing the row back to the outbox to retry.
"""
from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest, TelegramForbiddenError, TelegramMigrateToChat, TelegramRetryAfter,
)
from aiogram.types import ForceReply, LinkPreviewOptions, ReplyParameters
from aiogram.types import Message as TgMessage

from adapters.telegram.keyboards import fit, keyboard
from core.domain.models import Person
from core.infra.offloop import off_loop
from core.infra.outbox import DeliveryError, Sent
from core.infra.ratelimit import Limit, RateLimiter
from core.presentation.messages import Message

log = logging.getLogger(__name__)

# No burst on the global budget: Telegram counts per second, and a 30-message burst
# on top of 30/s overshoots the first second and draws 429s that stall every chat.
GLOBAL = Limit.per_second(30, burst=1)
PER_CHAT = Limit.per_second(1, burst=1)
PER_GROUP = Limit.per_minute(20, burst=3)
ANSWER_ATTEMPTS = 5
MAX_WAIT_S = 2.0
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def scopes(chat_id: int | str) -> list[tuple[str, Limit]]:
    """The buckets a message to this chat draws from."""
    chat = int(chat_id)
    found = [("telegram", GLOBAL), (f"telegram:chat:{chat}", PER_CHAT)]
    if chat < 0:
        found.append((f"telegram:group:{chat}", PER_GROUP))
    return found


class TelegramMessenger:
    """Sends, replies to and redraws messages for the outbox and the handlers."""

    platform = "telegram"

    def __init__(self, bot: Bot, limiter: RateLimiter | None = None, chat=None) -> None:
        self.bot = bot
        self.limiter = limiter if limiter is not None else RateLimiter()  # (an empty limiter is falsy)
        self.chat = chat  # core.chat.Chat: remembers the cards sent as answers
        self.on_migrate = None  # set by the wiring: (old_chat_id, new_chat_id) -> None

    def reaches(self, person: Person) -> bool:
        return person.telegram_id is not None

    async def send(self, person: Person, message: Message) -> Sent:
        """A notice to a member's private chat with the bot."""
        sent = await self.post(person.telegram_id, message)
        return Sent(self.platform, str(sent.chat.id), str(sent.message_id))

    async def send_to_chat(self, chat_id: str, message: Message) -> Sent:
        """A post to a group (announcements)."""
        sent = await self.post(int(chat_id), message)
        return Sent(self.platform, str(sent.chat.id), str(sent.message_id))

    async def post(self, chat_id: int, message: Message, *, thread_id: int | None = None,
                   reply_to: int | None = None) -> TgMessage:
        """Send a core message to a chat (a topic, a reply) within the limits."""
        await self._pace(chat_id)
        return await self._call(chat_id, lambda: self.bot.send_message(
            chat_id=chat_id, text=fit(message.text, f"/show {message.task_id}" if message.task_id else ""),
            parse_mode=ParseMode.HTML, reply_markup=keyboard(message), message_thread_id=thread_id,
            reply_parameters=ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None,
            link_preview_options=NO_PREVIEW,
        ))

    async def answer(self, incoming: TgMessage, message: Message, person_id: int | None) -> None:
        """Answer in the chat (and forum topic) the update came from; a 429 waits, never drops."""
        thread = incoming.message_thread_id if incoming.is_topic_message else None
        for attempt in range(ANSWER_ATTEMPTS):
            try:
                sent = await self.post(incoming.chat.id, message, thread_id=thread)
                break
            except DeliveryError as exc:
                if exc.retry_after is None or exc.permanent or attempt == ANSWER_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(exc.retry_after)
        if message.task_id and self.chat is not None:
            await off_loop(self.chat.remember_card, message.task_id,
                           Sent(self.platform, str(sent.chat.id), str(sent.message_id)), person_id)

    async def update(self, chat_id: str, message_id: str, message: Message) -> None:
        """Redraw a card in place; an unchanged or vanished card is fine."""
        await self._pace(chat_id)
        try:
            await self._call(int(chat_id), lambda: self.bot.edit_message_text(
                chat_id=int(chat_id), message_id=int(message_id), text=fit(message.text, f"/show {message.task_id}"),
                parse_mode=ParseMode.HTML, reply_markup=keyboard(message), link_preview_options=NO_PREVIEW,
            ))
        except DeliveryError as exc:
            if "message is not modified" in str(exc) or "message to edit not found" in str(exc):
                return
            raise

    async def prompt(self, chat_id: int, text: str, *, thread_id: int | None = None) -> None:
        """Ask for a value with ForceReply (a comment, a reason, a time)."""
        await self._pace(chat_id)
        await self._call(chat_id, lambda: self.bot.send_message(
            chat_id=chat_id, text=text, message_thread_id=thread_id,
            reply_markup=ForceReply(force_reply=True, selective=True),
        ))

    async def _pace(self, chat_id) -> None:
        """Wait for this chat's turn, unless the wait is long: then the outbox retries
        later, so one busy chat (or one that drew a 429) does not hold up the rest."""
        delay = self.limiter.reserve_delay(*scopes(chat_id))
        if delay > MAX_WAIT_S:
            raise DeliveryError(f"chat {chat_id} is paced for {delay:.1f}s", retry_after=delay)
        await self.limiter.acquire(*scopes(chat_id))

    async def _call(self, chat_id: int, request):
        """Run one Bot API call, translating Telegram's errors for the outbox."""
        try:
            return await request()
        except TelegramRetryAfter as exc:
            for scope, _limit in scopes(chat_id):
                self.limiter.penalize(scope, exc.retry_after)
            raise DeliveryError(f"429: retry after {exc.retry_after}s", retry_after=exc.retry_after) from exc
        except TelegramMigrateToChat as exc:
            if self.on_migrate:
                await off_loop(self.on_migrate, chat_id, exc.migrate_to_chat_id)
            raise DeliveryError(f"chat moved to {exc.migrate_to_chat_id}", retry_after=0) from exc
        except TelegramForbiddenError as exc:
            raise DeliveryError(exc.message, permanent=True) from exc
        except TelegramBadRequest as exc:  # a 400 is the same the next time
            raise DeliveryError(exc.message, permanent=True) from exc
