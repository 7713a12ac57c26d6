"""Three worker processes on PostgreSQL and Redis: 10 000 reminders come due, each is delivered
exactly once, the shared rate budget holds, and killing a worker mid-run loses nothing."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlmodel import select

from core.domain.models import Outbox, Person, Reminder, Task
from core.infra.delivery import SLOTS
from tests.conftest import fresh_store, postgres_url
from tests.fakes import telegram_api as tg

ROOT = Path(__file__).resolve().parent.parent
PEOPLE, PER_PERSON = 100, 100  # 10 000 reminders, 100 chats
SCALE = 20  # Telegram's 30/s and 1/s per chat, 20 times faster


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: Redis runs are skipped (CI sets it)")
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter("multi:rate:*"):
        client.delete(key)
    client.close()
    return url


def seed(store, now: datetime) -> None:
    """100 people, 10 000 open tasks, one reminder each, all due now."""
    with store.session() as session:
        session.add_all([Person(handle=f"w{i}", name=f"Worker {i}", telegram_id=20_000 + i, created_at=now)
                         for i in range(PEOPLE)])
    with store.engine.begin() as conn:
        people = [row[0] for row in conn.execute(select(Person.id).order_by(Person.id))]
        conn.execute(insert(Task), [
            {"title": f"T{n}", "description": "", "creator_id": people[n % PEOPLE], "assignee_id": people[n % PEOPLE],
             "status": "open", "column": "todo", "created_at": now, "updated_at": now, "due_at": now}
            for n in range(PEOPLE * PER_PERSON)])
        tasks = [(row[0], row[1]) for row in conn.execute(select(Task.id, Task.assignee_id))]
        conn.execute(insert(Reminder), [{"task_id": t, "person_id": p, "kind": "at_due", "due_at": now,
                                         "status": "pending"} for t, p in tasks])


async def test_three_workers_deliver_each_reminder_exactly_once(tmp_path, redis_url):
    if os.environ.get("TEAMFLOW_TEST_DATABASE") != "postgres":
        pytest.skip("runs once, in the PostgreSQL pass (TEAMFLOW_TEST_DATABASE=postgres)")
    url = postgres_url()
    store = fresh_store(url)
    seed(store, datetime.now(timezone.utc) - timedelta(seconds=1))
    stop = tmp_path / "stop"
    async with tg.FakeTelegram() as fake:
        # The platform enforces the limits (with a little room for clock jitter between processes).
        fake.enforce_limits(per_chat_per_second=1.2 * (SCALE + 1), global_per_second=1.2 * (30 * SCALE + 30))
        command = [sys.executable, "-m", "tests.multi_worker", url, redis_url, fake.url, str(SCALE), "2", str(stop)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        workers = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(3)]
        for _ in range(600):
            if len(fake.sent()) >= 2_000:
                break
            await asyncio.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)  # one worker dies mid-run
        workers[0].wait()
        for _ in range(1200):  # bounded: ten minutes at most (it takes about three on 2 cores)
            if _sent(store) == PEOPLE * PER_PERSON:
                break
            await asyncio.sleep(0.5)
        stop.touch()
        for worker in workers[1:]:
            for _ in range(240):
                if worker.poll() is not None:
                    break
                await asyncio.sleep(0.5)  # the fake must keep answering while they finish
            else:
                worker.kill()
        titles = Counter(m["text"].split("\n")[1] for m in fake.sent())
        rejected = list(fake.rejected)
    assert _sent(store) == PEOPLE * PER_PERSON
    assert len(titles) == PEOPLE * PER_PERSON  # every reminder reached its person
    twice = [title for title, n in titles.items() if n > 1]
    assert len(twice) <= SLOTS  # only the calls the kill cut short may repeat, one per slot (Telegram can't be asked)
    assert rejected == []  # three workers together never went over the shared budget
    store.engine.dispose()


def _sent(store) -> int:
    with store.session() as session:
        return len(session.exec(select(Outbox.id).where(Outbox.template == "reminder", Outbox.status == "sent")).all())
