"""Building the aiogram Bot and Dispatcher with Teamflow's dependencies injected."""
from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, BotCommandScopeDefault

from adapters.telegram import errors
from adapters.telegram.handlers import routers
from adapters.telegram.messenger import TelegramMessenger
from adapters.telegram.middleware import DedupeUpdates, ResolveMember
from core.infra.dedupe import MemorySeen
from core.presentation.i18n import LANGUAGES, N_, gettext_for

COMMANDS = [
    ("task", N_("create a task: /task title @person by tomorrow 15:00")),
    ("tasks", N_("my open tasks (mine, created, watching, overdue, all)")),
    ("board", N_("the kanban board")),
    ("show", N_("a task with its history: /show 42")),
    ("done", N_("close a task: /done 42")),
    ("snooze", N_("remind me later: /snooze 42 in 2 hours")),
    ("settings", N_("my time zone and language")),
    ("help", N_("what I can do")),
]


def make_bot(token: str, api_url: str | None = None) -> Bot:
    """A Bot talking to Telegram, or to another Bot API server (a local one, a test fake)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    return Bot(token=token, session=session)


def make_dispatcher(app, telegram: TelegramMessenger, bot_username: str, *,
                    storage: BaseStorage | None = None, seen=None) -> Dispatcher:
    """The Dispatcher: dedupe, member resolution, then the feature routers."""
    storage = storage or MemoryStorage()
    # With Redis, a person's next message may reach any worker: their state and the
    # per-chat event lock live in Redis too (aiogram's RedisStorage + its isolation).
    isolation = storage.create_isolation() if hasattr(storage, "create_isolation") else None
    kwargs = {"events_isolation": isolation} if isolation else {}
    dp = Dispatcher(storage=storage, app=app, telegram=telegram, bot_username=bot_username, **kwargs)
    dp.update.outer_middleware(DedupeUpdates(seen or MemorySeen()))
    member = ResolveMember()
    dp.message.outer_middleware(member)
    dp.callback_query.outer_middleware(member)
    dp.include_routers(*routers())
    errors.register(dp)
    return dp


async def publish_commands(bot: Bot) -> None:
    """The command menu, in English by default and in Russian for Russian clients."""
    for lang in LANGUAGES:
        _ = gettext_for(lang)
        commands = [BotCommand(command=name, description=_(text)[:256]) for name, text in COMMANDS]
        code = None if lang == "en" else lang
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)


async def connect(app, bot: Bot, *, storage: BaseStorage | None = None, limiter=None,
                  seen=None) -> tuple[Dispatcher, TelegramMessenger]:
    """Ask Telegram who we are, then wire the messenger and dispatcher for this bot."""
    me = await bot.get_me()
    telegram = TelegramMessenger(bot, limiter, chat=app.chat)
    telegram.on_migrate = lambda old, new: app.chat.move_chat("telegram", old, new)
    app.chat.platforms.invite_links["telegram"] = lambda code: f"https://t.me/{me.username}?start={code}"
    return make_dispatcher(app, telegram, me.username, storage=storage, seen=seen), telegram
