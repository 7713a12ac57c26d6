"""A writer holding SQLite's write lock does not freeze the event loop.

Another process's writer is played by a raw sqlite3 connection on the same
file, in BEGIN IMMEDIATE. While it holds the lock, a slash command is
acknowledged, /healthz answers and other coroutines run; the command's own
transaction waits (the busy timeout) and completes once the lock is let go.
No timing is asserted: only what happens while the lock is held, and after.
"""
from __future__ import annotations

import asyncio
import sqlite3
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from adapters.slack.modes import EVENTS_PATH
from bot.runtime import web_app
from core.domain.models import Task
from tests.fakes import slack_api as fake_slack
from tests.slack_harness import GENERAL, SlackHarness
from tests.telegram_harness import TelegramHarness


@pytest.fixture
def sqlite_file(sqlite_store):
    """The store's SQLite file (this is about SQLite's write lock)."""
    if not sqlite_store.is_sqlite:
        pytest.skip("SQLite's write lock: the PostgreSQL pass has nothing to hold")
    return sqlite_store.engine.url.database


def hold_write_lock(path: str) -> sqlite3.Connection:
    """Another writer, in the middle of its transaction."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    return raw


def titles(store) -> list[str]:
    with store.read() as session:
        return list(session.exec(select(Task.title)))


async def post_command(slack: SlackHarness, line: str) -> int:
    """A signed slash command, without waiting for the listener after its ack; the HTTP status."""
    name, _, text = line.partition(" ")
    fields = fake_slack.slash_command("U01OLGA0002", "olga", name, text, channel_id=GENERAL,
                                      response_url=slack.response_url(), trigger_id=slack.fake.issue_trigger("U01OLGA0002"))
    body = urlencode(fields).encode()
    headers = fake_slack.signed_headers(body, content_type="application/x-www-form-urlencoded")
    async with slack.http.post(EVENTS_PATH, data=body, headers=headers) as response:
        return response.status


async def test_a_held_write_lock_leaves_slack_acks_and_healthz_answering(sqlite_store, sqlite_file, clock):
    async with SlackHarness(sqlite_store, clock) as slack:
        await slack.command("olga", "/task First one")  # first contact (the locale is learned) done
        health = TestClient(TestServer(web_app(slack.app), host="127.0.0.1"))
        await health.start_server()
        raw = hold_write_lock(sqlite_file)
        try:
            assert await post_command(slack, "/task Held behind the lock") == 200  # acknowledged under the lock
            async with health.get("/healthz") as response:
                assert response.status == 200 and (await response.json())["ok"] is True
            assert "Held behind the lock" not in titles(sqlite_store)  # its transaction waits for the lock
        finally:
            raw.rollback()
            raw.close()
        await slack.settle()
        await health.close()
        assert titles(sqlite_store).count("Held behind the lock") == 1
        assert "#2 Held behind the lock" in slack.text(slack.last(GENERAL))


async def test_a_held_write_lock_leaves_the_loop_free_for_other_coroutines(sqlite_store, sqlite_file, clock):
    async with TelegramHarness(sqlite_store, clock) as telegram:
        await telegram.private("olga", "/help")  # first contact done: the id is stored
        raw = hold_write_lock(sqlite_file)
        try:
            update = asyncio.create_task(telegram.private("olga", "/task Waits on the lock"))
            ticks = 0
            for _ in range(20):  # this coroutine runs on while the update waits on its thread
                await asyncio.sleep(0.01)
                ticks += 1
            assert ticks == 20 and not update.done()
            assert titles(sqlite_store) == []
        finally:
            raw.rollback()
            raw.close()
        await update
        assert titles(sqlite_store) == ["Waits on the lock"]
        assert "Waits on the lock" in telegram.last("olga")["text"]
