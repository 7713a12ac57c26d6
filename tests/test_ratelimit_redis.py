"""The shared rate budget in Redis: two limiters (two workers) together stay within one limit."""
from __future__ import annotations

import asyncio
import time
import uuid


from core.infra.ratelimit import Limit


def limiter(redis, prefix):
    from core.infra.ratelimit_redis import RedisRateLimiter

    return RedisRateLimiter(redis, prefix=prefix)


async def test_two_workers_share_one_budget(redis):
    """40 grants at 20/s with a burst of 5, split over two limiters: never more than the limit allows."""
    prefix = f"test:{uuid.uuid4().hex}:"
    workers = [limiter(redis, prefix), limiter(redis, prefix)]
    scope = ("telegram:chat:1", Limit.per_second(20, burst=5))
    stamps: list[float] = []

    async def send(worker, n):
        for _ in range(n):
            await worker.acquire(scope)
            stamps.append(time.monotonic())

    await asyncio.gather(send(workers[0], 20), send(workers[1], 20))
    stamps.sort()
    # In any window of one second, at most burst + rate grants (a small allowance for clock skew).
    for i, start in enumerate(stamps):
        in_window = sum(1 for s in stamps[i:] if s - start <= 1.0)
        assert in_window <= 5 + 20 + 1
    assert stamps[-1] - stamps[0] >= (40 - 5) / 20 * 0.9  # the shared bucket made them wait


async def test_a_penalty_blocks_every_worker(redis):
    prefix = f"test:{uuid.uuid4().hex}:"
    one, two = limiter(redis, prefix), limiter(redis, prefix)
    scope = ("telegram:chat:2", Limit.per_second(100, burst=10))
    one.penalize("telegram:chat:2", 0.5)
    await asyncio.sleep(0.05)  # the penalty is sent without blocking the caller
    assert await two.reserve_delay_async(scope) > 0.3
    waited = await two.acquire(scope)
    assert waited >= 0.3


async def test_several_scopes_take_all_or_nothing(redis):
    prefix = f"test:{uuid.uuid4().hex}:"
    worker = limiter(redis, prefix)
    chat = ("telegram:chat:3", Limit.per_second(1, burst=1))
    overall = ("telegram", Limit.per_second(1, burst=3))
    await worker.acquire(chat, overall)
    assert await worker.reserve_delay_async(chat, overall) > 0.5  # the chat is spent
    # The global bucket was not drained while the chat waited: two more chats go at once.
    await worker.acquire(("telegram:chat:4", Limit.per_second(1, burst=1)), overall)
    await worker.acquire(("telegram:chat:5", Limit.per_second(1, burst=1)), overall)
    assert await worker.reserve_delay_async(overall) > 0  # 3 taken: the burst is used up
