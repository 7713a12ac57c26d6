"""The same token buckets, kept in Redis, so N workers together stay within one budget.

Each bucket is a Redis hash {tokens, stamp}. One Lua script checks every
scope of a send and takes a token from each only when all have one, atomically
and on Redis's own clock (TIME), so workers on different machines agree. It
answers how long to wait otherwise; the caller sleeps and asks again.
Interface as core.infra.ratelimit.RateLimiter: acquire, penalize, reserve_delay.
"""
from __future__ import annotations

import asyncio
import time

from core.infra.ratelimit import Limit

# KEYS: bucket keys. ARGV: take (1|0), then rate, burst per key (rates already scaled).
# Returns the wait in microseconds as a string (0 = granted when take=1).
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local take = ARGV[1] == '1'
local wait, levels = 0, {}
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local b = redis.call('HMGET', key, 'tokens', 'stamp')
  local tokens, stamp = tonumber(b[1]) or burst, tonumber(b[2]) or now
  local at = math.max(now, stamp)
  local level = math.min(burst, tokens + math.max(0, at - stamp) * rate)
  levels[i] = {level, at}
  local need = (at - now) + math.max(0, 1 - level) / rate
  if level < 1 - 1e-9 or at > now + 1e-6 then wait = math.max(wait, need) end
end
if wait == 0 and take then
  for i, key in ipairs(KEYS) do
    local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
    redis.call('HSET', key, 'tokens', levels[i][1] - 1, 'stamp', levels[i][2])
    redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
  end
end
return tostring(math.floor(wait * 1e6))
"""

# KEYS[1]: bucket. ARGV[1]: seconds blocked (scaled). Blocks the bucket until now + seconds.
PENALIZE = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1e6 + tonumber(ARGV[1])
local stamp = tonumber(redis.call('HGET', KEYS[1], 'stamp')) or 0
if until_ > stamp then
  redis.call('HSET', KEYS[1], 'tokens', 0, 'stamp', until_)
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 60)
end
return 1
"""


class RedisRateLimiter:
    """Token buckets shared by every worker through one Redis."""

    def __init__(self, redis, *, scale: float = 1.0, prefix: str = "teamflow:rate:") -> None:
        self.redis, self.scale, self.prefix = redis, scale, prefix
        self._acquire = redis.register_script(ACQUIRE)
        self._penalize = redis.register_script(PENALIZE)

    @classmethod
    def from_url(cls, url: str, **kwargs) -> "RedisRateLimiter":
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), **kwargs)

    def _args(self, scopes: tuple[tuple[str, Limit], ...], take: bool):
        keys = [self.prefix + name for name, _ in scopes]
        argv = ["1" if take else "0"]
        for _, limit in scopes:
            argv += [repr(limit.rate * self.scale), repr(limit.burst)]
        return keys, argv

    async def acquire(self, *scopes: tuple[str, Limit]) -> float:
        """Wait until every bucket has a token, then take one from each (atomically, in Redis)."""
        start = time.monotonic()
        keys, argv = self._args(scopes, take=True)
        while True:
            wait = int(await self._acquire(keys=keys, args=argv)) / 1e6
            if wait <= 0:
                return time.monotonic() - start
            await asyncio.sleep(wait)

    async def reserve_delay_async(self, *scopes: tuple[str, Limit]) -> float:
        keys, argv = self._args(scopes, take=False)
        return int(await self._acquire(keys=keys, args=argv)) / 1e6

    def reserve_delay(self, *scopes: tuple[str, Limit]) -> float:
        """Redis can't be asked synchronously: callers pace by awaiting acquire instead."""
        return 0.0

    def penalize(self, scope: str, seconds: float) -> None:
        """After a 429: that bucket gives nothing for `seconds` (scaled), for every worker."""
        asyncio.ensure_future(self._penalize(keys=[self.prefix + scope], args=[repr(max(0.0, seconds) / self.scale)]))
