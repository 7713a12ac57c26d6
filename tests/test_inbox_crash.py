"""Nothing acknowledged is lost: `teamflow run` killed with SIGKILL three times while 100 `/task`
updates arrive (person n gives a task to person n+1), by long polling and by webhook; after the
last restart there are exactly 100 tasks, and every assignee got their card once (a card in
flight at a kill may come twice: one per delivery slot at most, as the outbox promises).

The updates arrive spread out, as people type, so the kills land at different points: between
recording a batch and handling it, in the middle of a batch, between batches. The worker's
claim on what it records lapses after INBOX_LEASE (1 s here), when the restarted worker handles
what the killed one left.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from bot.runtime import WEBHOOK_PATH
from bot.settings import Settings
from core.infra.delivery import SLOTS
from tests.conftest import migrated_url
from tests.fakes import telegram_api as tg
from tests.test_telegram_runtime import free_port

ROOT = Path(__file__).resolve().parent.parent
VARIABLES = [field.alias for field in Settings.model_fields.values()]
PEOPLE = 100
FIRST = 20_000  # p00's Telegram id; p07's is 20_007
KILL_AT = (12, 45, 80)  # tasks stored when each SIGKILL lands
LIMIT_S = 60.0
SECRET = "crash-test-secret"


def team_file(tmp_path: Path) -> Path:
    people = "\n".join(f"  - id: p{n:02d}\n    name: Person {n}\n    telegram: {FIRST + n}\n    manager: olga"
                       for n in range(PEOPLE))
    path = tmp_path / "org.yaml"
    path.write_text(f"timezone: Europe/Moscow\nlanguage: en\npeople:\n"
                    f"  - id: olga\n    name: Olga\n    admin: true\n{people}\n", encoding="utf-8")
    return path


def update(n: int) -> dict:
    """Person n, in their chat with the bot, gives a task to person n+1."""
    return tg.private_message(n + 1, FIRST + n, f"/task Check set {n}. @p{(n + 1) % PEOPLE:02d}")


def cards(fake) -> Counter:
    """Cards of task "Check set n." in its assignee's chat, by n."""
    found = Counter()
    for message in fake.sent():
        n = (message["chat"]["id"] - FIRST - 1) % PEOPLE  # the task its reader was given
        if f"Check set {n}." in message.get("text", ""):
            found[n] += 1
    return found


class Worker:
    """One `teamflow run` process at a time, on the same database, port and fake Telegram."""

    def __init__(self, tmp_path: Path, url: str, fake, mode: str) -> None:
        self.port, self.url, self.log = free_port(), url, tmp_path / "worker.log"
        self.env = {name: value for name, value in os.environ.items() if name not in VARIABLES}
        self.env.update(PYTHONPATH=str(ROOT), DATABASE_URL=url, TEAMFLOW_ORG_FILE=str(team_file(tmp_path)),
                        TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.url, TELEGRAM_MODE=mode,
                        HTTP_PORT=str(self.port), INBOX_LEASE="1")
        if mode == "webhook":
            self.env.update(TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram/webhook",
                            TELEGRAM_WEBHOOK_SECRET=SECRET)
        self.cwd, self.process = tmp_path, None
        self.engine = create_engine(url)

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=self.cwd,
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            env=self.env)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.engine.dispose()

    def count(self, query: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text(query)).scalar_one()

    def tasks(self) -> int:
        return self.count("SELECT count(*) FROM task")

    def alive(self) -> None:
        assert self.process.poll() is None, f"the worker died:\n{self.log.read_text()[-3000:]}"


async def until(condition, what: str, worker: Worker | None = None) -> None:
    for _ in range(int(LIMIT_S / 0.02)):
        if condition():
            return
        if worker is not None:
            worker.alive()
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def healthy(worker: Worker) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as http:
        for _ in range(int(LIMIT_S / 0.1)):
            worker.alive()
            try:
                async with http.get(f"http://127.0.0.1:{worker.port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the worker never answered /healthz")


def check(worker: Worker, fake) -> None:
    assert worker.tasks() == PEOPLE
    assert worker.count("SELECT count(DISTINCT title) FROM task") == PEOPLE
    assert worker.count("SELECT count(*) FROM inbox WHERE handled_at IS NULL") == 0
    found = cards(fake)
    assert set(found) == set(range(PEOPLE)), "every assignee hears of their task"
    twice = [n for n, count in found.items() if count > 1]
    assert len(twice) <= SLOTS * len(KILL_AT), twice


@pytest.fixture
async def fake():
    async with tg.FakeTelegram() as server:
        yield server


async def _kill_at(worker: Worker, tasks: int) -> None:
    await until(lambda: worker.tasks() >= tasks, f"{tasks} tasks stored", worker)
    worker.kill()


async def test_polling_killed_three_times_loses_no_update(fake, tmp_path):
    worker = Worker(tmp_path, migrated_url(tmp_path), fake, "polling")
    try:
        worker.start()
        await healthy(worker)

        async def type_them() -> None:  # people type; the updates wait at Telegram in between
            for n in range(PEOPLE):
                fake.queue_update(update(n))
                await asyncio.sleep(0.03)

        typing = asyncio.create_task(type_them())
        for tasks in KILL_AT:
            await _kill_at(worker, tasks)
            worker.start()
        await typing
        await until(lambda: worker.tasks() >= PEOPLE, "every task", worker)
        await until(lambda: len(cards(fake)) >= PEOPLE, "every card", worker)
        await asyncio.sleep(1.5)  # a replay or duplicate would show by now (the lease is 1 s)
        check(worker, fake)
    finally:
        worker.stop()


async def test_webhook_killed_three_times_loses_no_acknowledged_update(fake, tmp_path):
    """Telegram's side is played here: each update is posted until it is answered 200 (a refused or
    unanswered post is sent again, as Telegram does), a few at a time."""
    worker = Worker(tmp_path, migrated_url(tmp_path), fake, "webhook")
    unanswered = list(range(PEOPLE))
    try:
        worker.start()
        await healthy(worker)

        async def telegram() -> None:
            endpoint = f"http://127.0.0.1:{worker.port}{WEBHOOK_PATH}"
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
                while unanswered:
                    n = unanswered[0]
                    try:
                        async with http.post(endpoint, json=update(n), headers=headers) as response:
                            if response.status == 200:
                                unanswered.remove(n)
                                await asyncio.sleep(0.02)
                                continue
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        pass
                    await asyncio.sleep(0.1)  # the worker is down: Telegram tries again later

        sending = asyncio.create_task(telegram())
        for tasks in KILL_AT:
            await _kill_at(worker, tasks)
            worker.start()
        await asyncio.wait_for(sending, LIMIT_S)
        await until(lambda: worker.tasks() >= PEOPLE, "every task", worker)
        await until(lambda: len(cards(fake)) >= PEOPLE, "every card", worker)
        await asyncio.sleep(1.5)
        check(worker, fake)
    finally:
        worker.stop()
