"""Inbound: `/task` creations per second, against the bare framework and the bare store.

1. Telegram pipeline: real update JSON (the shape Telegram posts to a webhook)
   -> json.loads -> aiogram `Update` -> the product's Dispatcher (dedupe and
   member middlewares, the routers) -> the command handler -> Chat -> the task,
   its history, reminders and outbox rows committed -> the answer card sent with
   the real aiogram Bot to the fake Bot API on loopback.
   Baseline: the same aiogram Dispatcher machinery, fed the same JSON the same
   way, routing to a message handler that does nothing.
   Goal: at least half the bare framework's rate.
   Also the dispatch overhead per update: from the update JSON to the message
   handler being called (aiogram, the middlewares, the member lookup, the
   filters), against the same for bare aiogram's do-nothing handler; an
   inner middleware marks the moment in both. Goal: at most 3x.

   The fake runs in its own process (Telegram's CPU is not ours), and the rate
   limiter is scaled out of the way (x1e6): with real limits the answers alone
   would cap the pipeline at Telegram's 30 messages/s per bot and 1/s per chat,
   which measures Telegram, not Teamflow. The HTTP call for the answer (aiogram
   building the request, aiohttp, loopback) is inside the measurement.

2. Chat only: `Chat.handle` alone, against one committed bare INSERT per task
   (same SQLite settings): what parsing, time reading, permission checks,
   history and outbox rows cost on top of the storage. No goal: context.
"""
from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiogram import Dispatcher, Router
from aiogram.types import Update
from sqlalchemy import event
from sqlmodel import func, select

from adapters.telegram.wiring import connect, make_bot
from bench.common import NOW, Result, env_int, file_store
from bench.fake_server import FakeTelegramProcess
from bot.app import DEMO_ORG, build_app
from bot.settings import load_settings
from core.domain.models import Outbox, Person, Task
from core.infra.ratelimit import RateLimiter
from core.infra.store import Store
from core.presentation.messages import Message
from tests.fakes import telegram_api as tg

N = env_int("BENCH_INBOUND_N", 300)          # /task commands through the pipeline and through Chat
N_FRAMEWORK = env_int("BENCH_INBOUND_BARE_N", 3000)  # updates to the do-nothing handler (it is fast)
WARMUP = 10
OLGA_TG = (1001, "olga_reshetova")  # olga's Telegram account; the demo org knows her username


def task_text(n: int) -> str:
    return f"/task Prepare model {n} @pavel @maria by завтра в 15:00"


def update_json(update_id: int, text: str) -> str:
    user_id, username = OLGA_TG
    return json.dumps(tg.private_message(update_id, user_id, text, username=username, language_code="en",
                                         date=int(NOW.timestamp())))


def _app(store: Store):
    settings = load_settings(_env_file=None, DATABASE_URL="sqlite://")
    return build_app(settings, store=store, clock=lambda: NOW, org_file=DEMO_ORG)


# ----- Telegram: pipeline vs bare framework ---------------------------------

async def _feed_all(dp: Dispatcher, bot, raws: list[str]) -> float:
    """Updates per second: JSON -> Update -> Dispatcher.feed_update, one after another."""
    start = time.perf_counter()
    for raw in raws:
        await dp.feed_update(bot, Update.model_validate(json.loads(raw), context={"bot": bot}))
    return len(raws) / (time.perf_counter() - start)


async def breakdown(dp: Dispatcher, bot, app, telegram, raws: list[str]) -> dict[str, float]:
    """Where one /task goes, in ms: a second, unmeasured pass with timers around the
    two calls the command handler makes (Chat.handle and the answer)."""
    spent = {"handle": 0.0, "answer": 0.0}
    handle, answer = app.chat.handle, telegram.answer

    def timed_handle(*args, **kwargs):
        start = time.perf_counter()
        try:
            return handle(*args, **kwargs)
        finally:
            spent["handle"] += time.perf_counter() - start

    async def timed_answer(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await answer(*args, **kwargs)
        finally:
            spent["answer"] += time.perf_counter() - start

    def count_statement(*_args, **_kwargs):
        spent["statements"] += 1

    def count_commit(*_args, **_kwargs):
        spent["commits"] += 1

    spent["statements"] = spent["commits"] = 0
    engine = app.store.engine
    event.listen(engine, "before_cursor_execute", count_statement)
    event.listen(engine, "commit", count_commit)
    app.chat.handle, telegram.answer = timed_handle, timed_answer
    try:
        rate = await _feed_all(dp, bot, raws)
    finally:
        del app.chat.handle, telegram.answer  # back to the class's methods
        event.remove(engine, "before_cursor_execute", count_statement)
        event.remove(engine, "commit", count_commit)
    n = len(raws)
    total = 1000 / rate
    parts = {"Chat.handle": 1000 * spent["handle"] / n, "answer (send + card row)": 1000 * spent["answer"] / n}
    parts["aiogram + middlewares"] = total - sum(parts.values())
    parts["total"] = total
    parts["dateparser (timeparse.parse_when)"] = dateparser_ms()
    parts["SQL statements"], parts["commits"] = spent["statements"] / n, spent["commits"] / n
    return parts


def dateparser_ms(calls: int = 100) -> float:
    """One reading of "завтра в 15:00" (the deadline in every /task here), in ms."""
    from core.chat.timeparse import parse_when

    parse_when("завтра в 15:00", now=NOW, tz="Europe/Moscow")
    start = time.perf_counter()
    for _ in range(calls):
        parse_when("завтра в 15:00", now=NOW, tz="Europe/Moscow")
    return 1000 * (time.perf_counter() - start) / calls


async def overhead_ms(dp: Dispatcher, bot, raws: list[str]) -> float:
    """Median ms from the update JSON to its message handler being called (marked by an inner
    middleware, which aiogram runs after the filters, right before the handler)."""
    reached: list[float] = []

    async def mark(handler, event, data):
        reached.append(time.perf_counter())
        return await handler(event, data)

    dp.message.middleware(mark)
    spent = []
    try:
        for raw in raws:
            start = time.perf_counter()
            await dp.feed_update(bot, Update.model_validate(json.loads(raw), context={"bot": bot}))
            spent.append(1000 * (reached[-1] - start))
    finally:
        dp.message.middleware.unregister(mark)
    return statistics.median(spent)


async def product_overhead_ms(dp: Dispatcher, bot, app, raws: list[str]) -> float:
    """The product's dispatcher, Chat.handle stubbed (the handler's work is not what is measured)."""
    app.chat.handle = lambda *_args, **_kwargs: Message(text="ok")
    try:
        return await overhead_ms(dp, bot, raws)
    finally:
        del app.chat.handle


def bare_dispatcher() -> Dispatcher:
    """aiogram with one message handler that does nothing."""
    router = Router(name="bare")

    @router.message()
    async def nothing(message) -> None:
        return None

    dp = Dispatcher()
    dp.include_router(router)
    return dp


async def telegram_rates(directory: Path, profile: bool) -> tuple[float, float, dict]:
    with FakeTelegramProcess() as fake:
        store = file_store(directory, "pipeline.db")
        app = _app(store)
        bot = make_bot(fake.token, fake.url)
        try:
            dp, telegram = await connect(app, bot, limiter=RateLimiter(scale=1e6))
            ids = iter(range(1, 10**9))
            warm = [update_json(next(ids), task_text(-n)) for n in range(1, WARMUP + 1)]
            raws = [update_json(next(ids), task_text(n)) for n in range(N)]
            await _feed_all(dp, bot, warm)
            measured = await _feed_all(dp, bot, raws)

            bare = bare_dispatcher()
            await _feed_all(bare, bot, warm)
            framework_raws = [update_json(next(ids), task_text(n % N)) for n in range(N_FRAMEWORK)]
            baseline = await _feed_all(bare, bot, framework_raws)

            overhead = await product_overhead_ms(dp, bot, app, [update_json(next(ids), task_text(n)) for n in range(300)])
            bare_overhead = await overhead_ms(bare, bot, [update_json(next(ids), task_text(n)) for n in range(300)])
            parts = await breakdown(dp, bot, app, telegram, [update_json(next(ids), task_text(n)) for n in range(100)])
            parts["bare aiogram"] = 1000 / baseline

            with store.session() as session:
                tasks = session.exec(select(func.count()).select_from(Task)).one()
                rows = session.exec(select(func.count()).select_from(Outbox)).one()
            answers = fake.stats()["calls"].get("sendMessage", 0)
            check = {"tasks": tasks, "outbox": rows, "answers": answers - 300, "expected": N + WARMUP + 100,
                     "parts": parts, "overhead": (overhead, bare_overhead)}

            if profile:
                profiled = [update_json(next(ids), task_text(n)) for n in range(100)]
                profiler = cProfile.Profile()
                profiler.enable()
                await _feed_all(dp, bot, profiled)
                profiler.disable()
                print_profile(profiler)
        finally:
            await bot.session.close()
            store.engine.dispose()
    return measured, baseline, check


def print_profile(profiler: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)
    print("\n  cProfile of 100 /task updates through the pipeline:\n" + out.getvalue())


# ----- Chat only vs bare insert ------------------------------------------------

def bare_inserts(store: Store, person_id: int) -> float:
    """Tasks per second: one committed INSERT each."""
    start = time.perf_counter()
    for n in range(N):
        with store.session() as session:
            session.add(Task(title=f"Bare {n}", creator_id=person_id, created_at=NOW, updated_at=NOW))
    return N / (time.perf_counter() - start)


def chat_creations(app, person_id: int) -> float:
    """Tasks per second through Chat.handle: parse, read the time, create, notify, render."""
    for n in range(1, WARMUP + 1):
        app.chat.handle(person_id, task_text(-n), "telegram")
    start = time.perf_counter()
    for n in range(N):
        app.chat.handle(person_id, task_text(n), "telegram")
    return N / (time.perf_counter() - start)


def chat_rates(directory: Path) -> tuple[float, float]:
    app = _app(file_store(directory, "chat.db"))
    with app.store.session() as session:
        olga = session.exec(select(Person).where(Person.handle == "olga")).one().id
    bare = file_store(directory, "bare.db")
    with bare.session() as session:
        person = Person(handle="olga", name="Olga", created_at=NOW)
        session.add(person)
        session.flush()
        bare_id = person.id
    baseline = bare_inserts(bare, bare_id)
    measured = chat_creations(app, olga)
    app.store.engine.dispose()
    bare.engine.dispose()
    return measured, baseline


def main(profile: bool = False) -> list[Result]:
    print(f"== inbound: /task creations per second ({N} commands; SQLite file) ==")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        measured, baseline, check = asyncio.run(telegram_rates(directory, profile))
        chat, insert = chat_rates(directory)
    ok = check["tasks"] == check["expected"] == check["answers"] and check["outbox"] > 0
    print(f"  telegram pipeline (update JSON -> aiogram -> Chat -> commit -> answer): {measured:8.1f} /task/s")
    print(f"  baseline: same aiogram Dispatcher, do-nothing handler:                 {baseline:8.1f} updates/s")
    print(f"  ratio {measured / baseline:.3f} of the bare framework   "
          f"(check: {check['tasks']} tasks, {check['outbox']} outbox rows, {check['answers']} answers sent"
          f"{'' if ok else ' -- MISMATCH'})")
    parts = check["parts"]
    print("  where one /task goes (ms): " + ", ".join(
        f"{name} {parts[name]:.2f}" for name in ("aiogram + middlewares", "Chat.handle", "answer (send + card row)")
    ) + f"; total {parts['total']:.2f}  (bare aiogram {parts['bare aiogram']:.2f}; "
        f"inside Chat.handle, dateparser {parts['dateparser (timeparse.parse_when)']:.2f}); "
        f"{parts['SQL statements']:.0f} SQL statements and {parts['commits']:.0f} commits per /task")
    pipeline = Result("inbound telegram", f"{measured:.1f} /task/s", f"{baseline:.0f} upd/s bare aiogram",
                      "pipeline >= 50% of bare aiogram", ok and measured >= 0.5 * baseline,
                      f"{100 * measured / baseline:.1f}%")
    pipeline.print_goal()
    overhead, bare_overhead = check["overhead"]
    print(f"  dispatch overhead before the handler (median, JSON -> handler called):      {overhead:6.3f} ms/update")
    print(f"  baseline: bare aiogram, JSON -> do-nothing handler:                        {bare_overhead:6.3f} ms/update")
    dispatch = Result("telegram dispatch overhead", f"{overhead:.3f} ms/update", f"{bare_overhead:.3f} ms bare aiogram",
                      "<= 3x bare aiogram", overhead <= 3 * bare_overhead, f"{overhead / bare_overhead:.1f}x")
    dispatch.print_goal()
    print(f"  chat only (Chat.handle):                                               {chat:8.1f} /task/s")
    print(f"  baseline: one committed bare INSERT per task:                          {insert:8.1f} rows/s")
    print(f"  ratio {chat / insert:.3f} of the bare insert (context only, no goal)")
    chat_only = Result("inbound chat only", f"{chat:.1f} /task/s", f"{insert:.0f} rows/s bare insert",
                       "(context, no goal)", None, f"{100 * chat / insert:.1f}%")
    return [pipeline, dispatch, chat_only]


if __name__ == "__main__":
    main(profile="--profile" in sys.argv)
