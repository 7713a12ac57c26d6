"""`teamflow run` with Slack: HTTP mode on the one web server, and Socket Mode, end to end on loopback."""
from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import aiohttp
import pytest

from adapters.slack.modes import EVENTS_PATH
from bot.app import DEMO_ORG
from tests.conftest import migrated_url
from bot.settings import load_settings
from tests.fakes import slack_api as fake_slack
from tests.fakes import telegram_api as tg
from tests.test_telegram_runtime import free_port, run_until_stopped, until

OLGA = "U01OLGA0002"


@pytest.fixture
async def fake():
    async with fake_slack.FakeSlack() as server:
        server.add_user(OLGA, name="olga", email="olga@example.com", locale="en-US")
        yield server


def settings_for(fake, tmp_path, **extra):
    url = migrated_url(tmp_path)
    return load_settings(_env_file=None, DATABASE_URL=url, SLACK_BOT_TOKEN=fake.token, SLACK_API_URL=fake.url,
                         TEAMFLOW_ORG_FILE=str(DEMO_ORG), HTTP_PORT=free_port(), **extra)


def a_command(fake, text: str) -> dict:
    return fake_slack.slash_command(OLGA, "olga", "/task", text, channel_id="C0GENERAL01",
                                    response_url=f"{fake.root}/response/1", trigger_id=fake.issue_trigger(OLGA))


def posted(fake, words: str) -> bool:
    return any(words in json.dumps(m["blocks"]) for m in fake.sent("C0GENERAL01"))


async def test_http_mode_serves_slack_events_on_the_web_server(fake, tmp_path):
    settings = settings_for(fake, tmp_path, SLACK_SIGNING_SECRET=fake_slack.SIGNING_SECRET)
    base = f"http://127.0.0.1:{settings.http_port}"
    body = urlencode(a_command(fake, "Served over HTTP")).encode()

    async def check():
        async with aiohttp.ClientSession() as http:
            await until(lambda: fake.calls_of("auth.test"), "auth.test at start")
            for _ in range(200):  # the server may still be starting
                try:
                    async with http.get(f"{base}/healthz") as response:
                        assert (await response.json())["platforms"] == ["slack"]
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            forged = fake_slack.signed_headers(body, secret="wrong")
            async with http.post(base + EVENTS_PATH, data=body, headers=forged) as response:
                assert response.status == 401
            async with http.post(base + EVENTS_PATH, data=body, headers=fake_slack.signed_headers(body)) as response:
                assert response.status == 200
        await until(lambda: posted(fake, "Served over HTTP"), "the card in #general")

    await run_until_stopped(settings, check)


async def test_socket_mode_dials_out_and_acknowledges_over_the_websocket(fake, tmp_path):
    settings = settings_for(fake, tmp_path, SLACK_APP_TOKEN=fake.app_token)

    async def check():
        await fake.connected()
        assert fake.calls_of("apps.connections.open")
        ack = await fake.push("slash_commands", a_command(fake, "Served over a socket"))
        assert ack["envelope_id"].startswith("env-")
        await until(lambda: posted(fake, "Served over a socket"), "the card in #general")

    await run_until_stopped(settings, check)


async def test_slack_and_telegram_run_together(fake, tmp_path):
    async with tg.FakeTelegram() as telegram:
        settings = settings_for(fake, tmp_path, SLACK_APP_TOKEN=fake.app_token, TELEGRAM_BOT_TOKEN=telegram.token,
                                TELEGRAM_API_URL=telegram.url)
        telegram.queue_update(tg.private_message(1, 1001, "/task From Telegram", username="olga_reshetova"))

        async def check():
            await fake.connected()
            await until(lambda: any("From Telegram" in m.get("text", "") for m in telegram.sent(1001)), "Telegram")
            await fake.push("slash_commands", a_command(fake, "From Slack"))
            await until(lambda: posted(fake, "From Slack"), "Slack")

        await run_until_stopped(settings, check)
