"""The token-bucket rate limiter, on fake time: no real sleeping, no wall clock."""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.infra.ratelimit import Limit, RateLimiter

TG_GLOBAL = Limit.per_second(30)
TG_CHAT = Limit.per_second(1)


class FakeTime:
    """A clock plus a sleep that advances it by exactly what was asked, and records it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # still yield, as a real sleep would


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def limiter(fake: FakeTime, **kwargs) -> RateLimiter:
    return RateLimiter(clock=fake.clock, sleep=fake.sleep, **kwargs)


def test_limit_constructors():
    assert Limit.per_second(30) == Limit(rate=30, burst=30)
    assert Limit.per_second(0.5) == Limit(rate=0.5, burst=1)
    assert Limit.per_second(5, burst=2) == Limit(rate=5, burst=2)
    assert Limit.per_minute(20) == Limit(rate=20 / 60, burst=20)
    with pytest.raises(ValueError):
        Limit(rate=0, burst=1)
    with pytest.raises(ValueError):
        Limit(rate=1, burst=0.5)


async def test_burst_passes_then_next_waits_one_interval(fake):
    rl = limiter(fake)
    limit = Limit.per_second(10, burst=5)
    for _ in range(5):
        assert await rl.acquire(("s", limit)) == 0
    assert fake.sleeps == []
    assert rl.reserve_delay(("s", limit)) == pytest.approx(0.1)
    assert await rl.acquire(("s", limit)) == pytest.approx(0.1)
    assert sum(fake.sleeps) == pytest.approx(0.1)


async def test_per_minute_lets_twenty_through_then_spaces_by_three_seconds(fake):
    rl = limiter(fake)
    group = ("telegram:chat:-100", Limit.per_minute(20))
    for _ in range(20):
        assert await rl.acquire(group) == 0
    start = fake.now
    times = []
    for _ in range(3):
        await rl.acquire(group)
        times.append(fake.now - start)
    assert times == pytest.approx([3.0, 6.0, 9.0])


async def test_one_chat_is_paced_by_its_own_bucket(fake):
    rl = limiter(fake)
    start = fake.now
    for _ in range(5):
        await rl.acquire(("telegram", TG_GLOBAL), ("telegram:chat:1", TG_CHAT))
    assert fake.now - start == pytest.approx(4.0)


async def test_many_chats_are_paced_by_the_global_bucket(fake):
    rl = limiter(fake)
    start = fake.now
    for chat in range(30):
        await rl.acquire(("telegram", TG_GLOBAL), (f"telegram:chat:{chat}", TG_CHAT))
    assert fake.now == start
    for chat in range(30, 33):
        await rl.acquire(("telegram", TG_GLOBAL), (f"telegram:chat:{chat}", TG_CHAT))
    assert fake.now - start == pytest.approx(3 / 30)
    assert fake.sleeps == pytest.approx([1 / 30] * 3)


async def test_a_waiting_scope_does_not_drain_the_others(fake):
    """Waiting on the chat bucket must not have already taken a global token."""
    rl = limiter(fake)
    glob = Limit.per_second(1, burst=2)
    await rl.acquire(("g", glob), ("chat", TG_CHAT))
    assert rl.reserve_delay(("chat", TG_CHAT)) == pytest.approx(1.0)
    assert rl.reserve_delay(("g", glob)) == 0  # still one global token left
    await rl.acquire(("g", glob), ("chat", TG_CHAT))  # waits 1 s, global refills meanwhile
    assert fake.now - 1000.0 == pytest.approx(1.0)
    assert rl.reserve_delay(("g", glob)) == 0  # one token left: 2 - 1 + 1 - 1


async def test_penalize_blocks_for_the_given_seconds(fake):
    rl = limiter(fake)
    chat = ("telegram:chat:7", TG_CHAT)
    await rl.acquire(chat)
    rl.penalize("telegram:chat:7", 5)
    assert rl.reserve_delay(chat) == pytest.approx(5.0)
    assert await rl.acquire(chat) == pytest.approx(5.0)
    assert await rl.acquire(chat) == pytest.approx(1.0)  # back to normal pacing


async def test_penalize_resumes_gently_not_with_a_saved_up_burst(fake):
    rl = limiter(fake)
    glob = ("telegram", TG_GLOBAL)
    rl.penalize("telegram", 2)
    assert await rl.acquire(glob) == pytest.approx(2.0)
    assert await rl.acquire(glob) == pytest.approx(1 / 30)


async def test_a_short_penalty_never_hands_out_a_token_before_normal_refill(fake):
    rl = limiter(fake)
    group = ("group", Limit.per_minute(20, burst=1))
    await rl.acquire(group)
    rl.penalize("group", 1)  # shorter than the 3 s the bucket needs anyway
    assert await rl.acquire(group) == pytest.approx(3.0)


async def test_penalize_before_first_use_and_shorter_penalty_does_not_shorten(fake):
    rl = limiter(fake)
    rl.penalize("slack:C1", 3)
    rl.penalize("slack:C1", 1)
    assert await rl.acquire(("slack:C1", Limit.per_second(1))) == pytest.approx(3.0)


async def test_scale_divides_waits(fake):
    rl = limiter(fake, scale=50)
    chat = ("telegram:chat:1", TG_CHAT)
    await rl.acquire(chat)
    assert await rl.acquire(chat) == pytest.approx(1 / 50)
    rl.penalize("telegram:chat:1", 10)
    assert await rl.acquire(chat) == pytest.approx(10 / 50)


async def test_concurrent_acquirers_are_served_in_order_one_second_apart(fake):
    rl = limiter(fake)
    scope = ("chat", Limit.per_second(1, burst=1))
    start = fake.now
    grants: list[tuple[int, float]] = []

    async def send(i: int) -> None:
        await rl.acquire(scope)
        grants.append((i, fake.now - start))

    await asyncio.gather(*(send(i) for i in range(10)))
    assert [i for i, _ in grants] == list(range(10))  # arrival order, nobody starves
    times = [t for _, t in grants]
    assert times == pytest.approx([float(i) for i in range(10)])
    assert all(b > a for a, b in zip(times, times[1:]))


async def test_cancelled_waiter_takes_nothing_and_releases_the_lock(fake):
    rl = limiter(fake)
    scope = ("chat", TG_CHAT)
    await rl.acquire(scope)
    blocked = asyncio.Event()

    async def never(seconds: float) -> None:
        blocked.set()
        await asyncio.Event().wait()

    rl._sleep = never
    task = asyncio.create_task(rl.acquire(scope))
    await blocked.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rl._sleep = fake.sleep
    assert await rl.acquire(scope) == pytest.approx(1.0)  # still only one token taken


async def test_eviction_keeps_the_buckets_bounded(fake):
    rl = limiter(fake, max_buckets=10)
    for chat in range(100):
        await rl.acquire((f"chat:{chat}", TG_CHAT))
        fake.now += 1.0  # the previous chats' buckets refill and become evictable
    assert len(rl) <= 10


async def test_eviction_never_forgets_a_bucket_that_is_still_limiting(fake):
    rl = limiter(fake, max_buckets=3)
    for chat in range(10):  # no time passes: every bucket is empty, none may go
        await rl.acquire((f"chat:{chat}", TG_CHAT))
    assert len(rl) == 10
    assert rl.reserve_delay(("chat:0", TG_CHAT)) == pytest.approx(1.0)
    fake.now += 1.0  # all full again; the next new bucket triggers a sweep
    await rl.acquire(("chat:new", TG_CHAT))
    assert len(rl) <= 3


def test_core_ratelimit_imports_no_platform_library():
    import core.infra.ratelimit as module

    source = open(module.__file__, encoding="utf-8").read()
    assert "aiogram" not in source.split('"""', 2)[2]
    assert "slack_sdk" not in source and "slack_bolt" not in source


# ---------------------------------------------------------------- property

SCOPES = ["a", "b", "c"]

limits = st.builds(
    Limit,
    rate=st.floats(min_value=0.05, max_value=50),
    burst=st.floats(min_value=1, max_value=10),
)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("acquire"), st.sets(st.sampled_from(SCOPES), min_size=1)),
        st.tuples(st.just("advance"), st.floats(min_value=0, max_value=5)),
        st.tuples(st.just("penalize"), st.tuples(st.sampled_from(SCOPES), st.floats(0, 5))),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(
    scope_limits=st.fixed_dictionaries({name: limits for name in SCOPES}),
    scale=st.sampled_from([1.0, 0.5, 50.0]),
    script=ops,
)
def test_no_window_ever_exceeds_burst_plus_rate_times_width(scope_limits, scale, script):
    fake = FakeTime()
    rl = limiter(fake, scale=scale, max_buckets=2)  # small, so eviction is exercised too
    grants: dict[str, list[float]] = {name: [] for name in SCOPES}

    async def run() -> None:
        for op, arg in script:
            if op == "acquire":
                chosen = sorted(arg)
                await rl.acquire(*((name, scope_limits[name]) for name in chosen))
                for name in chosen:
                    grants[name].append(fake.now)
            elif op == "advance":
                fake.now += arg
            else:
                rl.penalize(*arg)

    asyncio.run(run())
    for name, times in grants.items():
        limit = scope_limits[name]
        rate = limit.rate * scale
        for i in range(len(times)):
            for j in range(i, len(times)):
                width = times[j] - times[i]
                assert j - i + 1 <= limit.burst + rate * width + 1e-6, (name, i, j, width)
