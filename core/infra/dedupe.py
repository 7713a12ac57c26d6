"""Has this platform delivery been seen already? (Telegram update_id, Slack event_id.)

Platforms deliver again when they think we missed it; processing it twice
would create a task twice. One process remembers the last ids in memory;
several workers share the memory in Redis (SET NX with an expiry), so a
redelivery that lands on another worker is still dropped.
"""
from __future__ import annotations

from collections import OrderedDict


class MemorySeen:
    """The last `size` keys seen by this process."""

    def __init__(self, size: int = 10_000) -> None:
        self.size, self._keys = size, OrderedDict()

    async def first_time(self, key: str) -> bool:
        if key in self._keys:
            return False
        self._keys[key] = True
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True


class RedisSeen:
    """Keys seen by any worker in the last `ttl_s` seconds (platforms retry within minutes)."""

    def __init__(self, redis, *, prefix: str = "teamflow:seen:", ttl_s: int = 24 * 3600) -> None:
        self.redis, self.prefix, self.ttl_s = redis, prefix, ttl_s

    async def first_time(self, key: str) -> bool:
        return bool(await self.redis.set(self.prefix + key, 1, nx=True, ex=self.ttl_s))
