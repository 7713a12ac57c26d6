"""The real aiogram Bot and Dispatcher, wired by the product, against the fake Bot API."""
from __future__ import annotations

import itertools
from typing import Any

from aiogram.types import Update

from adapters.telegram.wiring import connect, make_bot
from bot.app import add_messenger
from core.infra.ratelimit import RateLimiter
from tests.conftest import make_app
from tests.fakes import telegram_api as tg

# The demo org's people, with the Telegram accounts the tests give them:
# (user id, username, the language their Telegram app reports).
USERS = {
    "olga": (1001, "olga_reshetova", "en"), "pavel": (1002, "pavel_smirnov", "ru"),
    "ivan": (1003, "ivan_petrov", "en"), "maria": (1004, "maria_sokolova", "ru"),
    "anna": (1005, "anna_kuznetsova", None), "stranger": (6666, "random_guy", "en"),
}
GROUP = -1001234567890


class TelegramHarness:
    """Feeds real update JSON through the product's dispatcher; the fake records what the bot sent."""

    def __init__(self, store, clock, *, scale: float = 1000.0, app=None) -> None:
        """`app`: an App another harness already built (one core, two platforms); by default a new one."""
        self.store, self.clock, self.scale, self.shared_app = store, clock, scale, app
        self.fake = tg.FakeTelegram()
        self._ids = itertools.count(1)

    async def __aenter__(self) -> "TelegramHarness":
        await self.fake.start()
        self.bot = make_bot(self.fake.token, self.fake.url)
        self.app = self.shared_app or make_app(self.store, None, self.clock)
        self.dp, self.telegram = await connect(self.app, self.bot, limiter=RateLimiter(scale=self.scale))
        add_messenger(self.app, self.telegram)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.bot.session.close()
        await self.fake.stop()

    # ----- what people do ----------------------------------------------------

    async def feed(self, update: dict[str, Any]) -> None:
        """One update through the dispatcher, exactly as polling would hand it over."""
        await self.dp.feed_update(self.bot, Update.model_validate(update, context={"bot": self.bot}))

    async def private(self, who: str, text: str, **kw) -> None:
        user_id, username, lang = USERS[who]
        await self.feed(tg.private_message(next(self._ids), user_id, text, username=username, language_code=lang, **kw))

    async def group(self, who: str, text: str, chat_id: int = GROUP, **kw) -> None:
        user_id, username, lang = USERS[who]
        await self.feed(tg.group_message(next(self._ids), chat_id, user_id, text, username=username,
                                         language_code=lang, **kw))

    async def tap(self, who: str, message: dict[str, Any], data: str) -> None:
        user_id, username, lang = USERS[who]
        await self.feed(tg.callback_query(next(self._ids), user_id, message, data, username=username,
                                          language_code=lang))

    async def deliver(self) -> int:
        """Run the outbox until nothing is due (what the scheduler's tick does)."""
        return await self.app.delivery.drain()

    # ----- what the bot did --------------------------------------------------

    def sent_to(self, who_or_chat: str | int) -> list[dict[str, Any]]:
        chat = USERS[who_or_chat][0] if isinstance(who_or_chat, str) else who_or_chat
        return self.fake.sent(chat)

    def last(self, who_or_chat: str | int) -> dict[str, Any]:
        sent = self.sent_to(who_or_chat)
        assert sent, f"nothing was sent to {who_or_chat}"
        return self.fake.message(sent[-1]["chat"]["id"], sent[-1]["message_id"])

    def buttons(self, message: dict[str, Any]) -> dict[str, str]:
        """Button text -> callback data of a message the bot sent."""
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row}

    def answers(self) -> list[dict[str, Any]]:
        return [call.params for call in self.fake.calls_of("answerCallbackQuery")]
