"""`teamflow run` with platforms: the web server, the scheduler ticks, Telegram.

One aiohttp server serves `GET /healthz` and, in webhook mode,
`POST /telegram/webhook` (aiogram's handler, which refuses a request without
the right secret token). In polling mode aiogram long-polls instead.
"""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlmodel import select

from bot.app import App, add_messenger, build_app, org_path
from bot.settings import Settings
from core import scheduler as scheduling

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


def web_app(app: App) -> web.Application:
    """The one web server; platforms add their routes to it."""
    server = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        with app.store.session() as session:
            session.exec(select(1)).one()  # the database answers
        return web.json_response({"ok": True, "platforms": [m.platform for m in app.messengers]})

    server.router.add_get("/healthz", healthz)
    return server


def register_webhook(server: web.Application, dp, bot, secret: str, *, background: bool = True) -> None:
    """`POST /telegram/webhook`: aiogram's handler answers 401 without the right secret token."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    handler = SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=background)
    handler.register(server, path=WEBHOOK_PATH)


async def run_platforms(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Start Telegram (polling or webhook), the web server and the scheduler; run until stopped."""
    from adapters.telegram.wiring import connect, make_bot, publish_commands

    bot = make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_url)
    app = build_app(settings, org_file=org_path(settings, demo=False))
    dp, telegram = await connect(app, bot)
    add_messenger(app, telegram)
    await publish_commands(bot)

    server = web_app(app)
    webhook = settings.telegram_mode == "webhook"
    if webhook:
        secret = settings.telegram_webhook_secret.get_secret_value()
        register_webhook(server, dp, bot, secret)
        await bot.set_webhook(settings.telegram_webhook_url, secret_token=secret,
                              allowed_updates=dp.resolve_used_update_types(), drop_pending_updates=False)
    else:
        await bot.delete_webhook(drop_pending_updates=False)

    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    scheduler = scheduling.start(app)
    log.warning("teamflow: telegram in %s mode, web server on %s:%s", settings.telegram_mode,
                settings.http_host, settings.http_port)
    stop = stop or asyncio.Event()
    try:
        if webhook:
            await stop.wait()
        else:
            await _poll_until(dp, bot, stop)
    finally:
        scheduler.shutdown(wait=False)
        await runner.cleanup()
        await bot.session.close()


async def _poll_until(dp, bot, stop: asyncio.Event) -> None:
    """Long-poll until asked to stop (or until polling itself ends)."""
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False,
                                                   allowed_updates=dp.resolve_used_update_types()))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        await dp.stop_polling()
        await polling
    waiter.cancel()
