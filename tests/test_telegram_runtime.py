"""`teamflow run` with Telegram: long polling and webhook mode, end to end on loopback."""
from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest

from bot.app import DEMO_ORG
from tests.conftest import migrated_url
from bot.runtime import WEBHOOK_PATH, run_platforms
from bot.settings import load_settings
from tests.fakes import telegram_api as tg

OLGA = (1001, "olga_reshetova")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def until(condition, what: str, limit_s: float = 20.0) -> None:
    """Wait (bounded) for something the running bot does; fail saying what never happened."""
    for _ in range(int(limit_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
async def fake():
    async with tg.FakeTelegram() as server:
        yield server


def settings_for(fake, tmp_path, **extra):
    url = migrated_url(tmp_path)
    return load_settings(_env_file=None, DATABASE_URL=url, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.url,
                         TEAMFLOW_ORG_FILE=str(DEMO_ORG), HTTP_PORT=free_port(), **extra)


async def run_until_stopped(settings, check):
    stop = asyncio.Event()
    running = asyncio.create_task(run_platforms(settings, stop=stop))
    try:
        await check()
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)


async def test_polling_mode_answers_and_publishes_commands(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    fake.queue_update(tg.private_message(1, OLGA[0], "/task Polled task", username=OLGA[1]))

    async def check():
        await until(lambda: any("Polled task" in m.get("text", "") for m in fake.sent(OLGA[0])), "the answer")
        assert {c.params.get("language_code") for c in fake.calls_of("setMyCommands")} == {None, "ru"}
        assert fake.calls_of("deleteWebhook")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{settings.http_port}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["platforms"] == ["telegram"]

    await run_until_stopped(settings, check)


async def test_webhook_mode_checks_the_secret_on_every_update(fake, tmp_path):
    settings = settings_for(fake, tmp_path, TELEGRAM_MODE="webhook",
                            TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram/webhook",
                            TELEGRAM_WEBHOOK_SECRET="s3cret-token")
    endpoint = f"http://127.0.0.1:{settings.http_port}{WEBHOOK_PATH}"
    update = tg.private_message(1, OLGA[0], "/task Hooked task", username=OLGA[1])

    async def post(http, secret):
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with http.post(endpoint, data=json.dumps(update), headers=headers) as response:
            return response.status

    async def check():
        await until(lambda: fake.calls_of("setWebhook"), "setWebhook")
        registered = fake.calls_of("setWebhook")[0].params
        assert registered["url"] == "https://bot.example.com/telegram/webhook"
        assert registered["secret_token"] == "s3cret-token"
        async with aiohttp.ClientSession() as http:
            assert await post(http, None) == 401
            assert await post(http, "wrong") == 401
            assert fake.sent(OLGA[0]) == []
            assert await post(http, "s3cret-token") == 200
        await until(lambda: any("Hooked task" in m.get("text", "") for m in fake.sent(OLGA[0])), "the answer")

    await run_until_stopped(settings, check)
