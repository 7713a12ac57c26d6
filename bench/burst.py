"""Burst: 500 signed `/task` slash commands at once against the real `teamflow run` web server.

The server is `bot.runtime.run_platforms` in Slack's HTTP mode, in a child
process (its CPU is what is measured), on a migrated SQLite file, talking to
the fake Slack Web API (tests/fakes/slack_api.py) in this process on loopback.
Every request is built and signed as Slack sends one (as bench/inbound_slack.py
does) and posted at once over its own connection; meanwhile /healthz is polled.

Figures: the acknowledgement latency of each command (p50/p99; Slack gives up
after 3 s), /healthz latency during the burst (p99), and the tasks stored (each
exactly once). Baselines, same run: the same server idle (one command at a
time, /healthz alone). Goals: every ack within 3 s, /healthz p99 <= 200 ms,
500 tasks, none twice. The server's connection cap (HTTP_MAX_CONNECTIONS,
500 by default) is raised to fit the burst and the pollers.
"""
from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import socket
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from bench.common import Result, env_int
from tests.fakes import slack_api as fake_slack

N = env_int("BENCH_BURST_N", 500)
IDLE_N = 20
ACK_LIMIT_S = 3.0
HEALTH_P99_MS = 200.0
OLGA = "U01OLGA0002"  # the demo org's Slack id for olga
STORED_WITHIN_S = 300
_ids = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env: dict[str, str]) -> None:
    """The child: `teamflow run` with these settings, until terminated."""
    os.environ.update(env)
    from bot.runtime import run_platforms
    from bot.settings import load_settings

    asyncio.run(run_platforms(load_settings(_env_file=None)))


def start_server(env: dict[str, str]) -> multiprocessing.Process:
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(env,), daemon=True)
    process.start()
    return process


async def wait_healthy(http: aiohttp.ClientSession, base: str, process) -> None:
    for _ in range(600):
        if not process.is_alive():
            raise RuntimeError("the server did not start (see the error above)")
        try:
            async with http.get(base + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz")


def command(fake, text: str, channel: str) -> tuple[bytes, dict[str, str]]:
    """A signed slash command, as Slack posts it."""
    fields = fake_slack.slash_command(OLGA, "olga", "/task", text, channel_id=channel,
                                      response_url=f"{fake.root}/response/{next(_ids)}",
                                      trigger_id=fake.issue_trigger(OLGA), channel_name="directmessage")
    body = urlencode(fields).encode()
    return body, fake_slack.signed_headers(body, content_type="application/x-www-form-urlencoded")


async def ack_ms(http: aiohttp.ClientSession, url: str, fake, text: str, channel: str) -> float:
    """Post one command; ms until its acknowledgement (inf when not a 200)."""
    body, headers = command(fake, text, channel)
    start = time.perf_counter()
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        ok = response.status == 200
    return 1000 * (time.perf_counter() - start) if ok else float("inf")


async def health_ms(http: aiohttp.ClientSession, url: str) -> float:
    start = time.perf_counter()
    async with http.get(url) as response:
        await response.read()
        ok = response.status == 200
    return 1000 * (time.perf_counter() - start) if ok else float("inf")


async def poll_health(http: aiohttp.ClientSession, url: str, until: asyncio.Event) -> list[float]:
    """/healthz latencies (ms): a request every 10 ms, each on its own (a slow one does not hold up
    the next), until told to stop."""
    polls = []
    while not until.is_set():
        polls.append(asyncio.create_task(health_ms(http, url)))
        await asyncio.sleep(0.01)
    return list(await asyncio.gather(*polls))


def stored(db: Path, prefix: str) -> tuple[int, int]:
    """(tasks with the prefix, distinct titles among them), read from the file."""
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute("SELECT count(*), count(DISTINCT title) FROM task WHERE title LIKE ?",
                            (prefix + "%",)).fetchone()
    return rows[0], rows[1]


async def wait_stored(db: Path, prefix: str, n: int) -> tuple[int, int, float]:
    start = time.perf_counter()
    found = (0, 0)
    while time.perf_counter() - start < STORED_WITHIN_S:
        found = await asyncio.to_thread(stored, db, prefix)
        if found[0] >= n:
            break
        await asyncio.sleep(0.25)
    return found[0], found[1], time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure() -> tuple[dict, dict]:
    from bot.app import DEMO_ORG
    from bot.db import upgrade

    async with fake_slack.FakeSlack() as fake:
        fake.add_user(OLGA, name="olga", email="olga@example.com", locale="en-US")
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "burst.db"
            upgrade(f"sqlite:///{db}")
            port = free_port()
            env = {"DATABASE_URL": f"sqlite:///{db}", "SLACK_BOT_TOKEN": fake.token,
                   "SLACK_SIGNING_SECRET": fake_slack.SIGNING_SECRET, "SLACK_API_URL": fake.url,
                   "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port), "HTTP_MAX_CONNECTIONS": str(N + 100),
                   "TEAMFLOW_ORG_FILE": str(DEMO_ORG), "TELEGRAM_BOT_TOKEN": "", "SLACK_APP_TOKEN": ""}
            server = start_server(env)
            base = f"http://127.0.0.1:{port}"
            try:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True)) as http:
                    await wait_healthy(http, base, server)
                    return await run_burst(http, base, fake, db)
            finally:
                server.terminate()
                server.join(10)


async def run_burst(http: aiohttp.ClientSession, base: str, fake, db: Path) -> tuple[dict, dict]:
    """Idle baselines first, then the burst with /healthz polled throughout."""
    events = base + "/slack/events"
    idle_acks = [await ack_ms(http, events, fake, f"Idle {n}", "D0IDLE") for n in range(IDLE_N)]
    await wait_stored(db, "Idle", IDLE_N)
    idle_stop = asyncio.Event()
    idle_poll = asyncio.create_task(poll_health(http, base + "/healthz", idle_stop))
    await asyncio.sleep(1.0)
    idle_stop.set()
    idle_health = await idle_poll

    stop = asyncio.Event()
    poller = asyncio.create_task(poll_health(http, base + "/healthz", stop))
    start = time.perf_counter()
    acks = await asyncio.gather(*(ack_ms(http, events, fake, f"Burst {n}", f"D0B{n:05d}") for n in range(N)))
    acked_s = time.perf_counter() - start
    tasks, distinct, stored_s = await wait_stored(db, "Burst", N)
    stop.set()
    health = await poller
    burst = {"acks": acks, "health": health, "tasks": tasks, "distinct": distinct, "acked_s": acked_s,
             "stored_s": acked_s + stored_s}
    return {"acks": idle_acks, "health": idle_health}, burst


def main() -> list[Result]:
    print(f"== burst: {N} signed /task slash commands at once against `teamflow run` (Slack HTTP mode, SQLite) ==")
    idle, burst = asyncio.run(measure())
    acks, health = burst["acks"], burst["health"]
    within = sum(1 for a in acks if a <= 1000 * ACK_LIMIT_S)
    print(f"  acks: p50 {pct(acks, 0.5):7.0f} ms  p99 {pct(acks, 0.99):7.0f} ms  max {max(acks):7.0f} ms;"
          f" {within}/{len(acks)} within {ACK_LIMIT_S:g} s (all sent and acked in {burst['acked_s']:.1f} s)")
    print(f"  baseline: idle server, one command at a time: p50 {pct(idle['acks'], 0.5):5.0f} ms"
          f"  p99 {pct(idle['acks'], 0.99):5.0f} ms")
    print(f"  /healthz during the burst: {len(health)} polls, p50 {pct(health, 0.5):6.0f} ms"
          f"  p99 {pct(health, 0.99):6.0f} ms  max {max(health):6.0f} ms")
    print(f"  baseline: /healthz on the idle server: p50 {pct(idle['health'], 0.5):5.1f} ms"
          f"  p99 {pct(idle['health'], 0.99):5.1f} ms")
    print(f"  stored: {burst['tasks']} tasks, {burst['distinct']} distinct (expected {N}); all stored"
          f" {burst['stored_s']:.1f} s after the first request")
    ack = Result("burst: acks within 3 s", f"{within}/{len(acks)}; p50 {pct(acks, 0.5):.0f} / p99 "
                 f"{pct(acks, 0.99):.0f} ms", f"idle p50 {pct(idle['acks'], 0.5):.0f} ms", "all within 3 s",
                 within == len(acks))
    ack.print_goal()
    p99 = pct(health, 0.99)
    healthz = Result("burst: /healthz p99", f"{p99:.0f} ms", f"idle p99 {pct(idle['health'], 0.99):.1f} ms",
                     f"p99 <= {HEALTH_P99_MS:g} ms", p99 <= HEALTH_P99_MS)
    healthz.print_goal()
    exact = burst["tasks"] == burst["distinct"] == N
    tasks = Result("burst: tasks stored", f"{burst['tasks']} ({burst['distinct']} distinct)", f"{N} sent",
                   "all, none twice", exact)
    tasks.print_goal()
    return [ack, healthz, tasks]


if __name__ == "__main__":
    main()
