"""A platform-neutral async token-bucket rate limiter for outbound messengers.

Platforms cap how fast a bot may send (Telegram: ~30 msg/s per bot, 1/s per
chat, 20/min per group; Slack: ~1/s per channel). A messenger names the
buckets a send draws from, e.g.
``await limiter.acquire(("telegram", TG_GLOBAL), (f"telegram:chat:{id}", TG_CHAT))``,
and the limiter waits until every one of them has a token.

Time comes from an injectable ``clock``/``sleep`` pair so tests run on fake
time, and ``scale`` speeds every limit up for time-scaled tests and benchmarks.
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Awaitable, Callable

# Float refill arithmetic can leave 0.9999999 of a token after sleeping the
# exact computed wait; counting that as a whole token avoids a spurious
# second micro-sleep without measurably loosening the limit.
EPSILON = 1e-9


@dataclass(frozen=True)
class Limit:
    """A sustained ``rate`` (tokens per second) and a ``burst`` (bucket capacity)."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a limit needs rate > 0 and burst >= 1, got {self}")

    @classmethod
    def per_second(cls, n: float, burst: float | None = None) -> "Limit":
        return cls(rate=n, burst=max(1.0, n if burst is None else burst))

    @classmethod
    def per_minute(cls, n: float, burst: float | None = None) -> "Limit":
        return cls(rate=n / 60.0, burst=max(1.0, n if burst is None else burst))


class _Bucket:
    """``tokens`` is the level at time ``stamp``; a ``stamp`` in the future means
    the bucket is blocked (penalized) and only starts refilling from then."""

    __slots__ = ("limit", "tokens", "stamp")

    def __init__(self, limit: Limit | None, tokens: float, stamp: float) -> None:
        self.limit, self.tokens, self.stamp = limit, tokens, stamp


class RateLimiter:
    """Named token buckets, created lazily, shared by every sender of one process."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        scale: float = 1.0,
        max_buckets: int = 100_000,
    ) -> None:
        if scale <= 0 or max_buckets < 1:
            raise ValueError("scale must be > 0 and max_buckets >= 1")
        self._clock, self._sleep, self._scale = clock, sleep, scale
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # LRU order: oldest first
        # One lock per limiter: asyncio.Lock wakes waiters in arrival order, so
        # holding it across the sleep serves callers FIFO and nobody starves.
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        """How many buckets are currently kept in memory."""
        return len(self._buckets)

    async def acquire(self, *scopes: tuple[str, Limit]) -> float:
        """Wait until every named bucket has a token, then take one from each
        atomically; returns seconds waited."""
        start = self._clock()
        async with self._lock:
            while True:
                # Never take from some buckets and then wait for another: that
                # would burn global capacity while a slow chat bucket refills.
                delay = self.reserve_delay(*scopes)
                if delay <= 0:
                    break
                await self._sleep(delay)
            now = self._clock()
            for name, limit in scopes:
                bucket = self._bucket(name, limit, now)
                bucket.tokens -= 1
            self._evict(now, keep={name for name, _ in scopes})
        return self._clock() - start

    def penalize(self, scope: str, seconds: float) -> None:
        """After a 429 with retry_after: that scope's bucket gives nothing for
        ``seconds`` (scaled by 1/scale)."""
        now = self._clock()
        until = now + max(0.0, seconds) / self._scale
        bucket = self._buckets.get(scope)
        if bucket is None:  # limit unknown yet; the next acquire supplies it
            self._buckets[scope] = _Bucket(None, 1.0, until)
            return
        if until <= bucket.stamp:
            return  # already blocked at least that long
        # At most one token when the block lifts: the platform just said we were
        # too fast, so resume gently instead of firing a saved-up burst. Never
        # more than normal refill would have given, so the limit itself holds.
        bucket.tokens = min(1.0, self._level(bucket, bucket.limit, until))
        bucket.stamp = until

    def reserve_delay(self, *scopes: tuple[str, Limit]) -> float:
        """How long acquire would wait now (no side effect; ignores queued callers)."""
        now = self._clock()
        delay = 0.0
        for name, limit in scopes:
            bucket = self._buckets.get(name) or _Bucket(limit, limit.burst, now)
            # Within EPSILON of the block's end or of a whole token counts as
            # there: re-sleeping a 1e-17 remainder would not move the clock.
            at = max(now, bucket.stamp)
            blocked = at - now if at - now > EPSILON else 0.0
            level = self._level(bucket, limit, at)
            missing = 1.0 - level if level < 1.0 - EPSILON else 0.0
            wait = blocked + missing / (limit.rate * self._scale)
            delay = max(delay, wait)
        return delay

    def _level(self, bucket: _Bucket, limit: Limit | None, at: float) -> float:
        """Tokens in ``bucket`` at time ``at`` (>= stamp), refilled at ``limit``."""
        if limit is None:
            return bucket.tokens
        refill = max(0.0, at - bucket.stamp) * limit.rate * self._scale
        return min(limit.burst, bucket.tokens + refill)

    def _bucket(self, name: str, limit: Limit, now: float) -> _Bucket:
        """The bucket for ``name``, brought up to ``now`` (new buckets start full)."""
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(limit, limit.burst, now)
        elif now >= bucket.stamp:
            bucket.tokens, bucket.stamp = self._level(bucket, limit, now), now
        bucket.limit = limit  # the caller's limit wins if it changed
        self._buckets.move_to_end(name)
        return bucket

    def _evict(self, now: float, keep: set[str]) -> None:
        """Drop least-recently-used buckets that are idle and full: recreating one
        later gives a full bucket again, so forgetting it changes nothing."""
        if len(self._buckets) <= self._max_buckets:
            return
        for name in list(self._buckets):
            if len(self._buckets) <= self._max_buckets:
                break
            bucket = self._buckets[name]
            if name in keep or bucket.limit is None or now < bucket.stamp:
                continue
            if self._level(bucket, bucket.limit, now) >= bucket.limit.burst - EPSILON:
                del self._buckets[name]
