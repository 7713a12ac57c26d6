"""Workers: deliveries per second with 1, 2 and 3 worker processes on PostgreSQL and Redis.

The same 3 000 reminders (one per task, 300 chats) come due for each run; N
processes of the product's worker wiring (tests/multi_worker.py: scheduler
tick, outbox delivery, the Redis rate budget) share them through PostgreSQL's
SKIP LOCKED claims, against the fake Bot API (in its own process) enforcing
Telegram's limits time-scaled x20. Figures: delivered per second, with the
single worker as the baseline, and the duplicate count (goal: 0). Needs
TEST_POSTGRES_URL and TEST_REDIS_URL (the machine's services); skipped without.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import Result, env_int
from bench.fake_server import FakeTelegramProcess

ROOT = Path(__file__).resolve().parent.parent
N = env_int("BENCH_WORKERS_N", 3000)
SCALE = 20


def seed(url: str) -> None:
    import tests.test_multiworker as rows
    from tests.conftest import fresh_store

    store = fresh_store(url)
    rows.PEOPLE, rows.PER_PERSON = 300, N // 300
    rows.seed(store, datetime.now(timezone.utc) - timedelta(seconds=1))
    store.engine.dispose()


def sent(url: str) -> int:
    from sqlmodel import select

    from core.domain.models import Outbox
    from core.infra.store import Store

    store = Store.from_url(url)
    with store.session() as session:
        count = len(session.exec(select(Outbox.id).where(Outbox.status == "sent")).all())
    store.engine.dispose()
    return count


def run(workers: int, url: str, redis_url: str) -> tuple[float, int]:
    """Deliveries per second and duplicates with `workers` processes."""
    seed(url)
    with FakeTelegramProcess(per_chat_per_second=1.2 * (SCALE + 1), global_per_second=1.2 * (30 * SCALE + 30)) as fake, \
            tempfile.TemporaryDirectory() as tmp:
        stop = Path(tmp) / "stop"
        command = [sys.executable, "-m", "tests.multi_worker", url, redis_url, fake.url, str(SCALE), "30", str(stop)]
        start = time.monotonic()
        procs = [subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
                 for _ in range(workers)]
        while sent(url) < N and time.monotonic() - start < 600:
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        stop.touch()
        for proc in procs:
            proc.wait(timeout=60)
        accepted = sum(fake.stats()["accepted_per_chat"].values())
    return N / elapsed, accepted - N  # one message per reminder: anything more is a duplicate


def main() -> list[Result]:
    url, redis_url = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    print(f"workers: {N} reminders delivered by 1, 2 and 3 worker processes (PostgreSQL + Redis, x{SCALE})")
    if not url or not redis_url:
        print("  skipped: set TEST_POSTGRES_URL and TEST_REDIS_URL (as .ci/run does) to measure it")
        return []
    rates = {}
    for workers in (1, 2, 3):
        rate, duplicates = run(workers, url, redis_url)
        rates[workers] = (rate, duplicates)
        print(f"  {workers} worker(s): {rate:7.1f} deliveries/s   duplicates: {duplicates}")
    base = rates[1][0]
    return [Result(f"workers: {w} on PostgreSQL + Redis", f"{rate:.1f} /s", f"1 worker: {base:.1f} /s",
                   "0 duplicates", duplicates == 0, note=f"x{rate / base:.2f}")
            for w, (rate, duplicates) in rates.items()]
