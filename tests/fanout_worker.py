"""A delivery worker in its own process, for the kill -9 test: `python -m tests.fanout_worker DB API SCALE LEASE_S`.

It is the product's own Delivery and TelegramMessenger, wired as `teamflow run`
wires them, looping until the outbox is empty.
"""
from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from adapters.telegram.messenger import TelegramMessenger
from adapters.telegram.wiring import make_bot
from bot.app import add_messenger, build_app
from bot.settings import load_settings
from core.infra.ratelimit import RateLimiter
from core.infra.store import Store
from tests.fakes.telegram_api import DEFAULT_TOKEN


async def main(db_url: str, api_url: str, scale: float, lease_s: float) -> None:
    settings = load_settings(_env_file=None, DATABASE_URL=db_url)
    app = build_app(settings, store=Store.from_url(db_url))
    app.delivery.lease = timedelta(seconds=lease_s)
    bot = make_bot(DEFAULT_TOKEN, api_url)
    add_messenger(app, TelegramMessenger(bot, RateLimiter(scale=scale)))
    idle = 0
    while idle < 20:
        idle = 0 if await app.delivery.run_once() else idle + 1
        await asyncio.sleep(0.05)
    await app.delivery.settle()  # run_once hands notices to lanes: let the last ones finish
    await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
