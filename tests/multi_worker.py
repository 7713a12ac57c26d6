"""One Teamflow worker process for the multi-worker test:
`python -m tests.multi_worker DB_URL REDIS_URL API_URL SCALE LEASE_S STOP_FILE`.

It is the product's wiring for several workers: PostgreSQL claims, the Redis
rate budget, the scheduler's tick and the outbox delivery, looping until the
stop file appears.
"""
from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from redis.asyncio import Redis

from adapters.telegram.messenger import TelegramMessenger
from adapters.telegram.wiring import make_bot
from bot.app import add_messenger, build_app
from bot.settings import load_settings
from core.infra import scheduler
from core.infra.ratelimit_redis import RedisRateLimiter
from tests.fakes.telegram_api import DEFAULT_TOKEN


async def main(db_url: str, redis_url: str, api_url: str, scale: float, lease_s: float, stop_file: str) -> None:
    app = build_app(load_settings(_env_file=None, DATABASE_URL=db_url))
    app.delivery.lease = timedelta(seconds=lease_s)
    app.delivery.batch = 20
    redis = Redis.from_url(redis_url)
    bot = make_bot(DEFAULT_TOKEN, api_url)
    add_messenger(app, TelegramMessenger(bot, RedisRateLimiter(redis, scale=scale, prefix="multi:rate:")))
    while not Path(stop_file).exists():
        scheduler.tick(app)
        if not await app.delivery.run_once():
            await asyncio.sleep(0.05)
    await app.delivery.settle()  # run_once hands notices to lanes: let the last ones finish
    await bot.session.close()
    await redis.aclose()


if __name__ == "__main__":
    db, redis_url, api, scale, lease, stop = sys.argv[1:7]
    asyncio.run(main(db, redis_url, api, float(scale), float(lease), stop))
