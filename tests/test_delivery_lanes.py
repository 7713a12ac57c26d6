"""Concurrent delivery against the fake Bot API: many chats at once, each in order, none twice,
and a chat whose calls hang holds up nobody else (the real Delivery and TelegramMessenger)."""
from __future__ import annotations

import asyncio
import re

from sqlmodel import select

from core.domain.models import Outbox, Person, Task
from core.infra.outbox import enqueue
from tests.telegram_harness import TelegramHarness

OTHERS, PER_CHAT = 50, 3
HANGING = 30_000  # the chat whose calls hang; the others are 30_001 … 30_050
FOREVER = 3600.0  # longer than any test runs


def seed(app, clock) -> None:
    """51 people with a Telegram chat each, and 3 numbered notices for each of them, enqueued
    round-robin (notice 0 to everyone, then 1, then 2), so a chat's notices span batches."""
    with app.store.session() as session:
        olga = session.exec(select(Person).where(Person.handle == "olga")).one()
        people = [Person(handle=f"lane{i}", name=f"Lane {i}", telegram_id=HANGING + i, created_at=clock())
                  for i in range(OTHERS + 1)]
        session.add_all(people)
        session.flush()
        for n in range(PER_CHAT):
            for person in people:
                task = Task(title=f"Notice {n} for {person.telegram_id}", creator_id=olga.id, created_at=clock(),
                            updated_at=clock())
                session.add(task)
                session.flush()
                enqueue(session, key=f"lane:{person.id}:{n}", recipient_id=person.id, template="reminder",
                        task_id=task.id, now=clock(), context={"kind": "at_due", "late": False})


def numbers(harness, chat: int) -> list[int]:
    """The notice numbers a chat received, in the order it received them."""
    return [int(re.search(r"Notice (\d+) for", m["text"]).group(1)) for m in harness.fake.sent(chat)]


def others_all_arrived(harness) -> bool:
    return all(len(harness.fake.sent(HANGING + i)) >= PER_CHAT for i in range(1, OTHERS + 1))


def assert_others_in_order_once(harness) -> None:
    for i in range(1, OTHERS + 1):
        assert numbers(harness, HANGING + i) == list(range(PER_CHAT)), f"chat {HANGING + i}"


async def test_a_chat_whose_call_hangs_holds_up_none_of_the_others(sqlite_store, clock):
    async with TelegramHarness(sqlite_store, clock) as harness:
        seed(harness.app, clock)
        harness.fake.slow_chats[HANGING] = FOREVER
        delivery = harness.app.delivery
        delivery.call_timeout = FOREVER  # the call stays in flight the whole test

        async def worker() -> None:
            """The scheduler's outbox tick, back to back."""
            while True:
                if not await delivery.run_once():
                    await asyncio.sleep(0.01)

        running = asyncio.create_task(worker())
        try:
            for _ in range(600):  # a bound for a slow machine, not a speed check
                if others_all_arrived(harness):
                    break
                await asyncio.sleep(0.05)
            hanging_calls = [c for c in harness.fake.calls_of("sendMessage") if c.params["chat_id"] == HANGING]
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await delivery.close(grace=0)
        assert_others_in_order_once(harness)
        # Its first notice is still in flight; the two behind it wait in its lane, not sent around it.
        assert len(hanging_calls) == 1 and harness.fake.sent(HANGING) == []


async def test_a_hanging_call_times_out_and_its_chat_gets_everything_later_in_order(sqlite_store, clock):
    async with TelegramHarness(sqlite_store, clock) as harness:
        seed(harness.app, clock)
        harness.fake.slow_chats[HANGING] = FOREVER
        harness.app.delivery.call_timeout = 2.0  # ample for a call to the fake on a busy machine, short for a test
        await harness.deliver()
        assert harness.fake.sent(HANGING) == []
        rows = hanging_rows(harness.app)
        assert [r.status for r in rows] == ["pending"] * PER_CHAT
        assert "no answer within 2s" in rows[0].error and rows[0].attempts == 1
        assert [r.attempts for r in rows[1:]] == [0] * (PER_CHAT - 1)  # handed back untried, to keep the order

        del harness.fake.slow_chats[HANGING]  # the chat answers again
        for _ in range(10):  # retries come due as the clock moves
            clock.advance(minutes=5)
            await harness.deliver()
            if all(r.status == "sent" for r in hanging_rows(harness.app)):
                break
        assert numbers(harness, HANGING) == list(range(PER_CHAT))
        assert_others_in_order_once(harness)  # nobody got anything twice, or out of order


def hanging_rows(app) -> list[Outbox]:
    with app.store.session() as session:
        person = session.exec(select(Person).where(Person.telegram_id == HANGING)).one()
        return list(session.exec(select(Outbox).where(Outbox.recipient_id == person.id).order_by(Outbox.id)))
