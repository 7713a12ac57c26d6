"""Fan-out: 1 000 notices to 1 000 private chats through the real outbox and Telegram messenger.

1 000 people with Telegram ids, a task each, and one outbox row each (a
reminder for their task). The real `Delivery` (claim, render, send, record)
with the real `TelegramMessenger` (aiogram Bot, token buckets) sends them to the
fake Bot API in its own process, which enforces Telegram's limits and answers
429 (retry_after=1) above them.

Time-scaled by K (BENCH_FANOUT_SCALE, default 20): the rate limiter runs K
times faster, the fake allows K times more (30*K/s overall, K/s per chat), and
the app's clock runs K times faster, so a 1 s retry-after or outbox tick takes
1/K real seconds. The delivery loop is the scheduler's: `run_once` back to back
while there is work (each claims a batch once the lanes have room for it and
returns while they send), and one (scaled) tick's wait when nothing was due.

Figure: delivered rate (all 1 000 recorded as sent / wall time) as % of the
scaled limit (the baseline); goals: >= 90 %, every 429'd notice sent in the
end, 0 lost, 0 duplicated. For context, the same pipeline's capacity with no
limits at all (the ceiling any K can reach) is measured too.
"""
from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import func, select

from adapters.telegram.messenger import GLOBAL, TelegramMessenger
from adapters.telegram.wiring import make_bot
from bench.common import NOW, Result, ScaledClock, env_float, env_int, file_store
from bench.fake_server import FakeTelegramProcess
from bot.app import build_app
from bot.settings import load_settings
from core.domain.clock import to_db
from core.domain.models import Outbox, Person, Task
from core.infra.offloop import off_loop
from core.infra.ratelimit import RateLimiter
from core.infra.scheduler import OUTBOX_EVERY_S

N = env_int("BENCH_FANOUT_N", 1000)
K = env_float("BENCH_FANOUT_SCALE", 20)
FIRST_CHAT = 700_000_000


def populate(store, n_rows: int) -> None:
    now = to_db(NOW)
    with store.engine.begin() as conn:
        conn.execute(insert(Person.__table__), [
            {"id": n, "handle": f"member{n}", "name": f"Member {n}", "telegram_id": FIRST_CHAT + n,
             "language": "en", "timezone": "Europe/Moscow", "roles": [], "is_admin": False, "active": True,
             "created_at": now} for n in range(1, n_rows + 1)])
        conn.execute(insert(Task.__table__), [
            {"id": n, "title": f"Check the aligner set {n}", "description": "", "creator_id": n, "assignee_id": n,
             "due_at": now + timedelta(hours=1), "status": "open", "column": "todo",
             "created_at": now, "updated_at": now} for n in range(1, n_rows + 1)])
        conn.execute(insert(Outbox.__table__), [
            {"key": f"fanout:{n}", "recipient_id": n, "template": "reminder", "task_id": n,
             "context": {"kind": "hour_before", "late": False}, "status": "pending", "attempts": 0,
             "available_at": now, "created_at": now} for n in range(1, n_rows + 1)])


def unsent(store) -> int:
    """Rows not yet sent: due, claimed (in a lane) or being sent."""
    with store.read() as session:
        return session.exec(select(func.count()).select_from(Outbox).where(
            Outbox.status.in_(("pending", "claimed", "sending")))).one()


async def fan_out(directory: Path, name: str, scale: float, limited: bool, n_rows: int = N) -> dict:
    """Deliver the N rows; returns timings, the fake's view and the outbox's view."""
    limits = {"global_per_second": GLOBAL.rate * scale, "per_chat_per_second": 1 * scale} if limited else {}
    with FakeTelegramProcess(**limits) as fake:
        store = file_store(directory, name)
        populate(store, n_rows)
        # Unlimited, the scale only lifts the limiter: a clock a million times faster would run a
        # claim's 1-minute lease out in 60 µs, while the lanes still hold the next batch.
        clock = ScaledClock(NOW, scale if limited else 1.0)
        settings = load_settings(_env_file=None, DATABASE_URL="sqlite://")
        app = build_app(settings, store=store, clock=clock)
        bot = make_bot(fake.token, fake.url)
        try:
            app.delivery.messengers.append(TelegramMessenger(bot, RateLimiter(scale=scale)))
            timeout = max(60.0, 10 * n_rows / (GLOBAL.rate * scale))
            clock.t0 = start = time.monotonic()
            while time.monotonic() - start < timeout:
                handled = await app.delivery.run_once()
                left = await off_loop(unsent, store)  # on a thread: the lanes keep sending meanwhile
                if not left:
                    break
                if not handled:
                    await asyncio.sleep(OUTBOX_EVERY_S / scale)
            await app.delivery.settle()  # (nothing is left in the lanes once nothing is left in the outbox)
            elapsed = time.monotonic() - start
            with store.session() as session:
                rows = session.exec(select(Outbox.status, Outbox.attempts, Outbox.message_ref)).all()
            stats = fake.stats()
        finally:
            await bot.session.close()
            store.engine.dispose()
    return {"elapsed": elapsed, "rows": rows, "fake": stats, "timed_out": bool(left), "n": n_rows}


def summarize(run: dict) -> dict:
    fake, rows = run["fake"], run["rows"]
    per_chat = {int(chat): count for chat, count in fake["accepted_per_chat"].items()}
    n_rows = run["n"]
    expected = {FIRST_CHAT + n for n in range(1, n_rows + 1)}
    statuses = Counter(status for status, _attempts, _ref in rows)
    return {
        "rate": n_rows / run["elapsed"],
        "n": n_rows,
        "fake_rate": (len(per_chat) - 1) / (fake["last_accept"] - fake["first_accept"])
        if fake["last_accept"] and fake["last_accept"] > fake["first_accept"] else 0.0,
        "lost": len(expected - set(per_chat)),
        "duplicated": sum(count - 1 for count in per_chat.values() if count > 1),
        "strangers": len(set(per_chat) - expected),
        "429": fake["rejected_429"],
        "unanswered": len({int(c) for c in fake["rejected_chats"]} - set(per_chat)),
        "statuses": dict(statuses),
        "retried_rows": sum(1 for _s, attempts, _r in rows if attempts > 1),
        "refs": len({ref for _s, _a, ref in rows if ref}),
        "other_errors": fake["other_errors"],
        "timed_out": run["timed_out"],
    }


def report(label: str, run: dict, limit: float) -> None:
    print(f"  {label}: delivered {run['rate']:7.1f} notices/s, baseline: the scaled limit {limit:.0f}/s "
          f"-> {100 * run['rate'] / limit:.1f}% of the limit  (at the fake, first to last send: "
          f"{run['fake_rate']:.1f}/s)")
    print(f"    429s received {run['429']}, rows retried {run['retried_rows']}, 429s unanswered "
          f"{run['unanswered']}, lost {run['lost']}, duplicated {run['duplicated']}, "
          f"outbox {run['statuses']}, distinct message refs {run['refs']}"
          + (", TIMED OUT" if run["timed_out"] else ""))


def clean(run: dict) -> bool:
    return not run["timed_out"] and run["strangers"] == 0 and run["statuses"] == {"sent": run["n"]}


def main() -> list[Result]:
    limit = GLOBAL.rate * K
    print(f"== fan-out: {N} notices to {N} chats through Delivery + TelegramMessenger, Telegram limits x{K:g} "
          f"({limit:.0f}/s overall, {K:g}/s per chat) ==")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(fan_out(Path(tmp), "warmup.db", 1e6, limited=False, n_rows=50))  # first-use costs, discarded
        free = summarize(asyncio.run(fan_out(Path(tmp), "capacity.db", 1e6, limited=False)))
        paced = summarize(asyncio.run(fan_out(Path(tmp), "fanout.db", K, limited=True)))
        # The pacing alone, at a scale this machine's pipeline can keep up with
        # (scaled limit at half the capacity just measured), on fewer notices.
        fit = max(0.5, round(0.5 * free["rate"] / GLOBAL.rate, 1))
        fit_n = min(N, max(200, int(8 * GLOBAL.rate * fit)))  # about 8 s
        within = summarize(asyncio.run(fan_out(Path(tmp), "within.db", fit, limited=True, n_rows=fit_n)))
    share = paced["rate"] / limit
    print(f"  capacity: the same pipeline with no limits at all delivers {free['rate']:.1f} notices/s "
          f"(= {100 * free['rate'] / limit:.0f}% of the x{K:g} limit; {free['rate'] / GLOBAL.rate:.1f}x Telegram's "
          f"real {GLOBAL.rate:.0f}/s)")
    report(f"x{K:g}", paced, limit)
    fit_limit = GLOBAL.rate * fit
    report(f"x{fit:g} ({fit_n} notices, within capacity: pacing alone)", within, fit_limit)
    fit_share = within["rate"] / fit_limit
    results = [
        Result("fan-out rate", f"{paced['rate']:.0f}/s", f"limit {limit:.0f}/s (x{K:g})", "delivered >= 90% of limit",
               share >= 0.9, f"{100 * share:.1f}%; pipeline capacity {free['rate']:.0f}/s"),
        Result("fan-out rate within capacity", f"{within['rate']:.0f}/s", f"limit {fit_limit:.0f}/s (x{fit:g})",
               "delivered >= 90% of limit", fit_share >= 0.9, f"{100 * fit_share:.1f}%"),
        Result("fan-out 429s", f"{paced['429'] + within['429']} received",
               f"{paced['unanswered'] + within['unanswered']} unanswered", "every 429'd notice sent later",
               paced["unanswered"] == within["unanswered"] == 0 and clean(paced) and clean(within)),
        Result("fan-out lost", str(paced["lost"] + within["lost"]), "0", "0 lost",
               paced["lost"] == within["lost"] == 0 and clean(paced) and clean(within)),
        Result("fan-out duplicated", str(paced["duplicated"] + within["duplicated"]), "0", "0 duplicated",
               paced["duplicated"] == within["duplicated"] == 0),
    ]
    for result in results:
        result.print_goal()
    return results


if __name__ == "__main__":
    main()
