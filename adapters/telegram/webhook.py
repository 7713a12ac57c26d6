"""`POST /telegram/webhook`: aiogram's request handler, strict about what it lets in.

aiogram's SimpleRequestHandler compares the secret token as text (a non-ASCII
header raised TypeError: a 500) and parses the body without a guard (bad JSON,
invalid UTF-8 or form data: a 500). Here the secret is compared as bytes (401),
and the body must be one JSON object that is a valid Update (else 400) before
the dispatcher sees it.
"""
from __future__ import annotations

import asyncio
import hmac
import json

from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def refuse(status: int, text: str) -> web.Response:
    """A refusal as the whole web server words it: JSON {"error": …}."""
    return web.json_response({"error": text}, status=status)


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time compare as bytes: any header text, however odd, is just wrong, never an error."""
    if not expected:
        return True
    given_bytes = (given or "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given_bytes, expected.encode("utf-8"))


def read_update(body: bytes, bot: Bot) -> Update | str:
    """The body as an Update, or why it is not one (for the 400)."""
    if not body:
        return "the body is empty; Telegram sends one Update as JSON"
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested beyond reason
        return "the body is not JSON"
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        return "the body is not an Update (a JSON object with an integer update_id)"
    try:
        return Update.model_validate(raw, context={"bot": bot})
    except (ValidationError, RecursionError) as exc:
        return f"the body is not a valid Update: {str(exc).splitlines()[0][:200]}"


class CheckedRequestHandler(SimpleRequestHandler):
    """401 without the right secret token, 400 for a body that is not an Update, else recorded in
    the inbox and handled (adapters/telegram/durable.py), or aiogram's own handling without one."""

    def __init__(self, *args, durable=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.durable = durable

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        return same_secret(telegram_secret_token, self.secret_token)

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER), bot):
            return refuse(401, "missing or wrong secret token")
        update = read_update(await request.read(), bot)
        if isinstance(update, str):
            return refuse(400, update)
        if self.durable is not None:
            return await self._recorded(update)
        if not self.handle_in_background:
            result = await self.dispatcher.feed_webhook_update(bot, update, **self.data)
            return web.Response(body=self._build_response_writer(bot=bot, result=result))
        task = asyncio.create_task(self._feed(bot, update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        return web.json_response({})

    async def _recorded(self, update: Update) -> web.Response:
        """Recorded, then 200 and handled in the background; 503 when it cannot be recorded, so
        Telegram sends it again (its sender hears once that nothing could be saved)."""
        ids = await self.durable.record([update])
        if ids is None:
            await self.durable.tell_unsaved([update])
            return refuse(503, "the update could not be stored; Telegram will send it again")
        if ids[0] is not None:  # None: recorded before, a redelivery
            self.durable.start(ids[0], update)
        return web.json_response({})

    async def _feed(self, bot: Bot, update: Update) -> None:
        """aiogram's background feed, with the Update already read."""
        result = await self.dispatcher.feed_update(bot, update, **self.data)
        if isinstance(result, TelegramMethod):
            await self.dispatcher.silent_call_request(bot=bot, result=result)
