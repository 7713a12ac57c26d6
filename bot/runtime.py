"""`teamflow run` with platforms: the web server, the scheduler ticks, Telegram and Slack.

One aiohttp server serves `GET /healthz` and `POST /forms/callback` (a bot
step's service answering later, signed like the calls it got); in Telegram's webhook mode
`POST /telegram/webhook` (aiogram's handler, which refuses a request without
the right secret token), in polling mode aiogram long-polls instead; in
Slack's HTTP mode `POST /slack/events` (bolt, which verifies every request's
signature), in Socket Mode the app dials out to Slack instead. Every door
answers bad input with a 4xx and JSON {"error": …}; the server's limits
(slow, idle, oversized, too many clients) are bot/http_limits.py's.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from sqlmodel import select

from bot.app import App, add_messenger, build_app, org_path
from bot.durability import InboxKeeper
from bot.http_limits import Limits, application, serve
from bot.settings import Settings
from core.forms import handle_callback
from core.forms.automation import CALLBACK_PATH, SIGNATURE_HEADER
from core.infra import scheduler as scheduling
from core.infra.offloop import off_loop, off_loop_read

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


def web_app(app: App, limits: Limits | None = None) -> web.Application:
    """The one web server; platforms add their routes to it."""
    server = application(limits or Limits.of(app.settings))

    async def healthz(_request: web.Request) -> web.Response:
        await off_loop_read(database_answers, app.store)
        return web.json_response({"ok": True, "platforms": [m.platform for m in app.messengers]})

    async def forms_callback(request: web.Request) -> web.Response:
        """A bot step's answer, later: 200, or 400 / 401 / 404 / 409 / 422 with {"error": …}."""
        body = await request.read()
        status, answer = await off_loop(handle_callback, app.store, body, request.headers.get(SIGNATURE_HEADER),
                                        now=app.clock())
        return web.json_response(answer, status=status)

    server.router.add_get("/healthz", healthz)
    server.router.add_post(CALLBACK_PATH, forms_callback)
    return server


def database_answers(store) -> None:
    """One SELECT in a read transaction: never queued behind a writer (SQLite WAL)."""
    with store.read() as session:
        session.exec(select(1)).one()


def register_webhook(server: web.Application, dp, bot, secret: str, *, background: bool = True,
                     durable=None) -> None:
    """`POST /telegram/webhook`: 401 without the right secret token, 400 for a body that is no Update;
    with `durable` (adapters/telegram/durable.py) each update is recorded in the inbox before its 200."""
    from adapters.telegram.webhook import CheckedRequestHandler

    handler = CheckedRequestHandler(dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=background,
                                    durable=durable)
    handler.register(server, path=WEBHOOK_PATH)


async def run_platforms(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Start every configured platform, the web server and the scheduler; run until stopped."""
    app = build_app(settings, org_file=org_path(settings, demo=False))
    server = web_app(app)
    stop = stop or asyncio.Event()
    keeper = InboxKeeper(app.inbox, {})
    async with contextlib.AsyncExitStack() as stack:
        shared = await _shared(settings, stack)
        # Telegram first: someone reachable on both platforms gets notices there.
        poll = (await _start_telegram(settings, app, server, stack, shared, keeper)
                if settings.telegram_bot_token else None)
        if settings.slack_bot_token:
            await _start_slack(settings, app, server, stack, shared, keeper)
        runner = await serve(server, settings.http_host, settings.http_port, Limits.of(settings))
        stack.push_async_callback(runner.cleanup)
        # After the scheduler stops and before the bots' sessions close: calls in flight may finish.
        stack.push_async_callback(app.delivery.close)
        scheduler = scheduling.start(app)
        stack.callback(scheduler.shutdown, wait=False)
        # The keeper stops first (LIFO): what is in hand finishes, the rest goes to the other workers.
        keeping = asyncio.Event()
        kept = asyncio.create_task(keeper.run(keeping))
        stack.push_async_callback(_stop_keeper, keeper, keeping, kept)
        log.warning("teamflow: %s; web server on %s:%s", ", ".join(_modes(settings)), settings.http_host,
                    settings.http_port)
        await (poll(stop) if poll else stop.wait())


async def _shared(settings: Settings, stack: contextlib.AsyncExitStack) -> dict:
    """With REDIS_URL, what several workers must share: the rate budget, the dedupe
    of redelivered updates and events, and aiogram's conversation state."""
    if not settings.redis_url:
        return {}
    from aiogram.fsm.storage.redis import RedisStorage
    from redis.asyncio import Redis

    from core.infra.dedupe import RedisSeen
    from core.infra.ratelimit_redis import RedisRateLimiter

    redis = Redis.from_url(settings.redis_url)
    stack.push_async_callback(redis.aclose)
    return {"limiter": RedisRateLimiter(redis), "seen": RedisSeen(redis), "storage": RedisStorage(redis=redis)}


async def _stop_keeper(keeper: InboxKeeper, keeping: asyncio.Event, kept: asyncio.Task) -> None:
    keeping.set()
    await kept
    await keeper.close()


async def _start_telegram(settings: Settings, app: App, server: web.Application, stack: contextlib.AsyncExitStack,
                          shared: dict, keeper: InboxKeeper):
    """Connect Telegram; in webhook mode register it, else return the long-polling loop to run.
    Either way every update goes through the inbox (adapters/telegram/durable.py)."""
    from adapters.telegram.durable import DurableUpdates
    from adapters.telegram.wiring import connect, make_bot, publish_commands

    bot = make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_url)
    stack.push_async_callback(bot.session.close)
    dp, telegram = await connect(app, bot, **shared)
    add_messenger(app, telegram)
    await publish_commands(bot)
    durable = DurableUpdates(dp, bot, app.inbox)
    keeper.replayers["telegram"] = durable.replay
    keeper.settlers.append(durable.settle)
    if settings.telegram_mode == "webhook":
        secret = settings.telegram_webhook_secret.get_secret_value()
        register_webhook(server, dp, bot, secret, durable=durable)
        await bot.set_webhook(settings.telegram_webhook_url, secret_token=secret,
                              allowed_updates=dp.resolve_used_update_types(), drop_pending_updates=False)
        return None
    await bot.delete_webhook(drop_pending_updates=False)
    return lambda stop: durable.poll(stop, allowed_updates=dp.resolve_used_update_types())


async def _start_slack(settings: Settings, app: App, server: web.Application, stack: contextlib.AsyncExitStack,
                       shared: dict, keeper: InboxKeeper) -> None:
    """Connect Slack: Socket Mode when SLACK_APP_TOKEN is set, else `POST /slack/events` on our server."""
    from adapters.slack.durable import SlackReplays
    from adapters.slack.modes import register_events, start_socket_mode
    from adapters.slack.wiring import connect

    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    bolt, slack = await connect(app, settings.slack_bot_token.get_secret_value(), secret,
                                api_url=settings.slack_api_url, limiter=shared.get("limiter"), seen=shared.get("seen"))
    add_messenger(app, slack)
    replays = SlackReplays(bolt)
    keeper.replayers["slack"] = replays.replay
    keeper.settlers.append(replays.settle)
    if settings.slack_app_token:
        handler = await start_socket_mode(bolt, settings.slack_app_token.get_secret_value())
        stack.push_async_callback(handler.close_async)
    else:
        register_events(server, bolt, secret, seen=shared.get("seen"))


def _modes(settings: Settings) -> list[str]:
    found = [f"telegram in {settings.telegram_mode} mode"] if settings.telegram_bot_token else []
    if settings.slack_bot_token:
        found.append("slack in " + ("socket mode" if settings.slack_app_token else "HTTP mode"))
    return found
