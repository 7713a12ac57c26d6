"""Two workers sharing PostgreSQL-or-SQLite and Redis: a redelivered update is handled once,
and a conversation started on one worker is finished on the other."""
from __future__ import annotations

import uuid

from aiogram.types import Update

from adapters.telegram.callbacks import TaskTap
from adapters.telegram.wiring import connect, make_bot
from bot.app import add_messenger
from core.infra.dedupe import MemorySeen, RedisSeen
from tests.conftest import make_app
from tests.fakes import telegram_api as tg
from tests.telegram_harness import USERS


async def worker(store, clock, fake, redis, prefix):
    """One worker process's wiring: its own Bot and Dispatcher, the shared store and Redis."""
    from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage

    app = make_app(store, None, clock)
    bot = make_bot(fake.token, fake.url)
    storage = RedisStorage(redis=redis, key_builder=DefaultKeyBuilder(prefix=prefix))
    dp, telegram = await connect(app, bot, storage=storage, seen=RedisSeen(redis, prefix=prefix + ":seen:"))
    add_messenger(app, telegram)
    return app, bot, dp


async def feed(bot, dp, update):
    await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))


async def test_two_workers_handle_a_redelivered_update_once_and_share_conversations(sqlite_store, clock, redis):
    prefix = f"test:{uuid.uuid4().hex}"
    async with tg.FakeTelegram() as fake:
        (_, bot_a, dp_a), (_, bot_b, dp_b) = [await worker(sqlite_store, clock, fake, redis, prefix) for _ in "ab"]
        olga, username, _ = USERS["olga"]
        created = tg.private_message(1, olga, "/task Shared task", username=username)
        await feed(bot_a, dp_a, created)
        await feed(bot_b, dp_b, created)  # Telegram delivered it again, to the other worker
        assert sum("Task #1 created." in m["text"] for m in fake.sent(olga)) == 1
        card = fake.sent(olga)[-1]
        await feed(bot_a, dp_a, tg.callback_query(2, olga, card, TaskTap(verb="comment", id=1).pack(),
                                                  username=username))
        prompt = fake.sent(olga)[-1]
        await feed(bot_b, dp_b, tg.private_message(3, olga, "Answered on worker B", username=username,
                                                   reply_to=prompt))
        assert "Comment added to #1." in fake.sent(olga)[-1]["text"]
        for bot in (bot_a, bot_b):
            await bot.session.close()


async def test_memory_dedupe_forgets_the_oldest():
    seen = MemorySeen(size=2)
    assert [await seen.first_time(k) for k in ("a", "b", "a", "c", "a")] == [True, True, False, True, True]
