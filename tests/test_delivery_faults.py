"""Delivery under faults: 5xx, timeouts, a worker killed with SIGKILL mid-fan-out, a restart across a deadline."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from sqlmodel import select

from core.domain.models import Outbox, Person, Task
from core.infra import scheduler
from core.infra.delivery import SLOTS
from core.infra.outbox import enqueue
from core.infra.store import Store
from tests.conftest import app_database_url, fresh_store, make_app
from tests.fakes import telegram_api as tg
from tests.telegram_harness import TelegramHarness

ROOT = Path(__file__).resolve().parent.parent


async def test_5xx_answers_are_retried_until_the_notice_arrives_once(sqlite_store, clock):
    async with TelegramHarness(sqlite_store, clock) as harness:
        await harness.private("pavel", "/start")
        await harness.private("olga", "/task Check the scans @pavel")
        before = len(harness.sent_to("pavel"))
        harness.fake.fail_next("sendMessage", code=502, times=2)
        for _ in range(3):
            await harness.deliver()
            clock.advance(minutes=10)
        assert len(harness.sent_to("pavel")) == before + 1


async def test_a_timed_out_call_is_retried_and_arrives_once(sqlite_store, clock):
    async with TelegramHarness(sqlite_store, clock) as harness:
        await harness.private("pavel", "/start")
        await harness.private("olga", "/task Check the scans @pavel")
        before = len(harness.sent_to("pavel"))
        harness.bot.session.timeout = 0.5
        harness.fake.delay_next("sendMessage", seconds=2.0)
        await harness.deliver()
        assert len(harness.sent_to("pavel")) == before
        clock.advance(minutes=10)
        await harness.deliver()
        assert len(harness.sent_to("pavel")) == before + 1


async def test_a_ping_due_while_the_bot_was_stopped_arrives_after_start_marked_late(tmp_path, clock):
    url = app_database_url(tmp_path)
    async with TelegramHarness(fresh_store(url), clock) as first_run:
        await first_run.private("pavel", "/start")
        await first_run.private("olga", "/task Send the invoice @pavel by today 12:00")
    clock.advance(hours=5)  # the bot is down across the deadline
    async with TelegramHarness(Store.from_url(url), clock) as second_run:
        scheduler.tick(second_run.app)  # what start-up does first
        await second_run.deliver()
        ping = second_run.last("pavel")["text"]
        assert "Срок наступил." in ping and "с опозданием" in ping  # Pavel reads Russian: "late"


async def test_a_worker_killed_mid_fan_out_loses_nothing(tmp_path, clock):
    """500 notices to 500 chats; SIGKILL the worker part-way; a new worker finishes the job, and sends
    again only what was in doubt: notices marked "sending", at most one per slot."""
    url = app_database_url(tmp_path)
    clock.now = datetime.now(timezone.utc)  # the worker process runs on the real clock
    app = make_app(fresh_store(url), None, clock)
    with app.store.session() as session:
        olga = session.exec(select(Person).where(Person.handle == "olga")).one()
        session.add(Task(title="Fan-out", creator_id=olga.id, created_at=clock(), updated_at=clock()))
        people = [Person(handle=f"p{i}", name=f"P {i}", telegram_id=10_000 + i, created_at=clock()) for i in range(500)]
        session.add_all(people)
        session.flush()
        for person in people:
            enqueue(session, key=f"fan:{person.id}", recipient_id=person.id, template="reminder", task_id=1,
                    now=clock(), context={"kind": "at_due", "late": False})
    async with tg.FakeTelegram() as fake:
        command = [sys.executable, "-m", "tests.fanout_worker", url, fake.url, "4", "1"]
        worker = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        for _ in range(600):
            if len(fake.sent()) >= 150:
                break
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed_at = len(fake.sent())
        assert 0 < killed_at < 500, "the kill should land mid-fan-out"
        in_doubt = _chats_sending(app)
        worker = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        for _ in range(1200):
            if _count(app, "sent") == 500:
                break
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        worker.wait()
        per_chat = Counter(message["chat"]["id"] for message in fake.sent())
    assert _count(app, "sent") == 500
    assert set(per_chat) == {10_000 + i for i in range(500)}  # every notice arrived
    twice = {chat for chat, n in per_chat.items() if n > 1}
    # Telegram cannot be asked whether a message landed, so a notice whose call
    # was cut by the kill is resent rather than lost: only those, at most one per
    # call in flight (a slot of the worker's), never another.
    assert twice <= in_doubt and len(in_doubt) <= SLOTS


def _chats_sending(app) -> set[int]:
    """The chats of the notices marked "sending" (in doubt once their worker is dead)."""
    with app.store.session() as session:
        return set(session.exec(select(Person.telegram_id).join(Outbox, Outbox.recipient_id == Person.id)
                                .where(Outbox.status == "sending", Outbox.key.startswith("fan:"))).all())


def _count(app, status: str) -> int:
    with app.store.session() as session:
        return len(session.exec(select(Outbox.id).where(Outbox.status == status, Outbox.key.startswith("fan:"))).all())
