"""Inbound on Slack: `/task` slash commands per second through the product's bolt app,
against the same bolt AsyncApp dispatching to a listener that only acknowledges.

Both get the same signed, form-encoded requests (signature checked in both),
fed to `AsyncApp.async_dispatch` as bolt's aiohttp adapter would. Bolt runs a
listener's work after the ack, so the pipeline's clock stops only when every
task is committed. The fake Slack Web API answers on loopback in this process.
Goal: at least half the bare framework's rate.
"""
from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlmodel import func, select

from adapters.slack.wiring import connect
from bench.common import NOW, Result, env_int, file_store
from bot.app import DEMO_ORG, add_messenger, build_app
from bot.settings import load_settings
from core.domain.models import Task
from core.infra.ratelimit import RateLimiter
from tests.fakes import slack_api as fake_slack

N = env_int("BENCH_INBOUND_N", 300)
N_FRAMEWORK = env_int("BENCH_INBOUND_BARE_N", 3000)
OLGA = "U01OLGA0002"  # the demo org's Slack id for olga
_ids = itertools.count(1)


def request(fake, text: str) -> AsyncBoltRequest:
    fields = fake_slack.slash_command(OLGA, "olga", "/task", text, channel_id="D0OLGA",
                                      response_url=f"{fake.root}/response/{next(_ids)}",
                                      trigger_id=fake.issue_trigger(OLGA), channel_name="directmessage")
    body = urlencode(fields)
    headers = fake_slack.signed_headers(body.encode(), secret=fake_slack.SIGNING_SECRET,
                                        content_type="application/x-www-form-urlencoded")
    return AsyncBoltRequest(body=body, headers={k.lower(): [v] for k, v in headers.items()})


def bare_app(fake) -> AsyncApp:
    """Bolt with one command listener that only acknowledges."""
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token=fake.token, base_url=fake.url + "/"),
                   signing_secret=fake_slack.SIGNING_SECRET)

    @app.command("/task")
    async def nothing(ack):
        await ack()

    return app


async def rate(app: AsyncApp, requests: list[AsyncBoltRequest], done=None) -> float:
    start = time.perf_counter()
    for req in requests:
        response = await app.async_dispatch(req)
        assert response.status == 200, response.body
    while done is not None and not done():
        await asyncio.sleep(0.001)
    return len(requests) / (time.perf_counter() - start)


async def measure() -> list[Result]:
    async with fake_slack.FakeSlack() as fake:
        fake.add_user(OLGA, name="olga", email="olga@example.com", locale="en-US")
        with tempfile.TemporaryDirectory() as tmp:
            app = build_app(load_settings(_env_file=None, DATABASE_URL="sqlite://"),
                            store=file_store(Path(tmp), "slack.db"), clock=lambda: NOW, org_file=DEMO_ORG)
            bolt, slack = await connect(app, fake.token, fake_slack.SIGNING_SECRET, api_url=fake.url,
                                        limiter=RateLimiter(scale=1e6))
            add_messenger(app, slack)

            def committed() -> bool:
                with app.store.session() as session:
                    return session.exec(select(func.count()).select_from(Task)).one() >= N + 5

            await rate(bolt, [request(fake, f"Warm up {n}") for n in range(5)])
            pipeline = await rate(bolt, [request(fake, f"Prepare model {n} @pavel by завтра в 15:00")
                                         for n in range(N)], committed)
        bare = await rate(bare_app(fake), [request(fake, f"Prepare model {n}") for n in range(N_FRAMEWORK)])
    result = Result("inbound /task via Slack (bolt)", f"{pipeline:.1f} /s",
                    f"bare bolt, ack-only listener: {bare:.0f} /s", "≥ 50% of the bare rate", pipeline >= 0.5 * bare,
                    note=f"{100 * pipeline / bare:.1f}%")
    return [result]


def main() -> list[Result]:
    print("inbound (Slack): /task slash commands through the bolt app vs bare bolt")
    results = asyncio.run(measure())
    for result in results:
        print(f"  {result.name}: {result.figure}   baseline {result.baseline}")
        result.print_goal()
    return results
