"""Every door of the web server answers bad input with a 4xx, never a 500 or a traceback.

One real `teamflow run` runtime (Telegram in webhook mode, Slack in HTTP mode, both
against their fakes on loopback) with short limits; each bad request is written as
raw bytes to its socket, so headers no client library would send still get sent.
After each, `/healthz` still answers.
"""
from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from sqlmodel import func, select

from bot.app import DEMO_ORG
from bot.runtime import run_platforms
from bot.settings import load_settings
from core.domain.models import Task
from core.infra.store import Store
from tests.conftest import migrated_url
from tests.fakes import slack_api as fake_slack
from tests.fakes import telegram_api as tg
from tests.test_telegram_runtime import free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")
SECRET = "s3cret-token"
LIMITS = {"HTTP_HEADER_TIMEOUT": "0.5", "HTTP_BODY_TIMEOUT": "0.5", "HTTP_MAX_CONNECTIONS": "12",
          "HTTP_MAX_BODY_BYTES": "65536"}
OLGA_SLACK = "U01OLGA0002"


class Running:
    """The runtime's address and what tests need to reach behind it."""

    def __init__(self, port: int, url: str, slack: fake_slack.FakeSlack) -> None:
        self.port, self.url, self.slack = port, url, slack


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("doors")
    async with tg.FakeTelegram() as telegram, fake_slack.FakeSlack() as slack:
        slack.add_user(OLGA_SLACK, name="olga", email="olga@example.com", locale="en-US")
        url = migrated_url(tmp)
        settings = load_settings(
            _env_file=None, DATABASE_URL=url, TEAMFLOW_ORG_FILE=str(DEMO_ORG), HTTP_PORT=free_port(),
            TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.url, TELEGRAM_MODE="webhook",
            TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram/webhook", TELEGRAM_WEBHOOK_SECRET=SECRET,
            SLACK_BOT_TOKEN=slack.token, SLACK_API_URL=slack.url, SLACK_SIGNING_SECRET=fake_slack.SIGNING_SECRET,
            **LIMITS)
        stop = asyncio.Event()
        running = asyncio.create_task(run_platforms(settings, stop=stop))
        for _ in range(400):
            if running.done():
                running.result()  # start-up failed: say why
            try:
                if (await request(settings.http_port, get("/healthz")))[0] == 200:
                    break
            except OSError:
                await asyncio.sleep(0.025)
        yield Running(settings.http_port, url, slack)
        stop.set()
        await asyncio.wait_for(running, 20)


# ----- the wire -------------------------------------------------------------------------


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: teamflow\r\nConnection: close\r\n\r\n".encode()


def post(path: str, body: bytes, headers: dict[str, str | bytes] | None = None, *,
         length: int | None = None) -> bytes:
    """A raw POST; header values may be bytes (sent as they are, non-ASCII included)."""
    lines = [f"POST {path} HTTP/1.1".encode(), b"Host: teamflow", b"Connection: close"]
    headers = {"Content-Length": str(len(body) if length is None else length), **(headers or {})}
    for name, value in headers.items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def request(port: int, raw: bytes, *, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send raw bytes, read the whole answer: (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def slack_signed(body: bytes, *, content_type="application/x-www-form-urlencoded", **kw) -> dict[str, str]:
    return fake_slack.signed_headers(body, content_type=content_type, **kw)


def telegram(body: bytes, secret: str | bytes | None = SECRET, content_type="application/json") -> dict:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return headers


NESTED = b"[" * 30_000 + b"]" * 30_000
UPDATE_NESTED = b'{"update_id": 1, "message": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"
COMMAND = urlencode({"command": "/task", "text": "x", "user_id": OLGA_SLACK}).encode()

# (what, raw request, status); bodies and headers as an attacker or a clumsy client sends them.
BAD_REQUESTS = [
    # POST /telegram/webhook
    ("tg: no secret", post("/telegram/webhook", b"{}", telegram(b"", None)), 401),
    ("tg: wrong secret", post("/telegram/webhook", b"{}", telegram(b"", "nope")), 401),
    ("tg: non-ASCII secret", post("/telegram/webhook", b"{}", telegram(b"", "сек".encode())), 401),
    ("tg: latin-1 secret", post("/telegram/webhook", b"{}", telegram(b"", b"\xff\xfe")), 401),
    ("tg: empty body", post("/telegram/webhook", b"", telegram(b"")), 400),
    ("tg: malformed JSON", post("/telegram/webhook", b'{"update_id": 1,', telegram(b"")), 400),
    ("tg: invalid UTF-8", post("/telegram/webhook", b'{"update_id": 1, "x": "\xff\xfe"}', telegram(b"")), 400),
    ("tg: deeply nested", post("/telegram/webhook", NESTED, telegram(b"")), 400),
    ("tg: nested update", post("/telegram/webhook", UPDATE_NESTED, telegram(b"")), 400),
    ("tg: form data", post("/telegram/webhook", b"update_id=1&message=hi",
                           telegram(b"", content_type="application/x-www-form-urlencoded")), 400),
    ("tg: a JSON array", post("/telegram/webhook", b"[1, 2]", telegram(b"")), 400),
    ("tg: no update_id", post("/telegram/webhook", b'{"message": {}}', telegram(b"")), 400),
    ("tg: not an Update", post("/telegram/webhook", b'{"update_id": 7, "message": {"message_id": "x"}}',
                               telegram(b"")), 400),
    ("tg: wrong method", get("/telegram/webhook"), 405),
    ("tg: over the body cap", post("/telegram/webhook", b"[" + b" " * 70_000 + b"]", telegram(b"")), 413),
    ("tg: absurd Content-Length", post("/telegram/webhook", b"{}", telegram(b""), length=10 ** 30), 400),
    ("tg: two Content-Lengths", post("/telegram/webhook", b"{}", {**telegram(b""), "content-length": "7"}), 400),
    # POST /slack/events
    ("slack: unsigned", post("/slack/events", COMMAND), 401),
    ("slack: timestamp abc", post("/slack/events", COMMAND, {**slack_signed(COMMAND), "X-Slack-Request-Timestamp":
                                                             "abc"}), 401),
    ("slack: timestamp 1e3", post("/slack/events", COMMAND, {**slack_signed(COMMAND), "X-Slack-Request-Timestamp":
                                                             "1e3"}), 401),
    ("slack: non-ASCII signature", post("/slack/events", COMMAND, {**slack_signed(COMMAND), "X-Slack-Signature":
                                                                   "v0=подпись".encode()}), 401),
    ("slack: wrong secret", post("/slack/events", COMMAND, slack_signed(COMMAND, secret="wrong")), 401),
    ("slack: stale", post("/slack/events", COMMAND, slack_signed(COMMAND, timestamp=int(time.time()) - 600)), 401),
    ("slack: empty body", post("/slack/events", b"", slack_signed(b"")), 400),
    ("slack: malformed JSON", post("/slack/events", b'{"type": ', slack_signed(b'{"type": ',
                                                                               content_type="application/json")), 400),
    ("slack: invalid UTF-8", post("/slack/events", b"text=\xff\xfe", slack_signed(b"text=\xff\xfe")), 400),
    ("slack: payload not JSON", post("/slack/events", b"payload=%7Bnope", slack_signed(b"payload=%7Bnope")), 400),
    ("slack: payload an array", post("/slack/events", b"payload=%5B1%5D", slack_signed(b"payload=%5B1%5D")), 400),
    ("slack: deeply nested", post("/slack/events", NESTED, slack_signed(NESTED, content_type="application/json")),
     400),
    ("slack: wrong method", get("/slack/events"), 405),
    # POST /forms/callback
    ("callback: step 1e400", post("/forms/callback", b'{"step":1e400}', {"X-Teamflow-Signature": "sha256=00"}), 400),
    ("callback: non-ASCII signature", post("/forms/callback", b'{"step":1}',
                                           {"X-Teamflow-Signature": "sha256=подпись".encode()}), 401),
    ("callback: no such step", post("/forms/callback", b'{"step":424242}', {"X-Teamflow-Signature": "sha256=1"}),
     401),
    ("callback: not JSON", post("/forms/callback", b"step=1"), 400),
    ("callback: invalid UTF-8", post("/forms/callback", b'{"step": "\xff"}'), 400),
    ("callback: deeply nested", post("/forms/callback", NESTED), 400),
    ("callback: empty", post("/forms/callback", b""), 400),
    ("callback: step true", post("/forms/callback", b'{"step": true}'), 400),
    ("callback: wrong method", get("/forms/callback"), 405),
    # elsewhere
    ("no such path", get("/admin"), 404),
]


@pytest.mark.parametrize(("raw", "status"), [case[1:] for case in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS])
async def test_bad_input_gets_its_4xx_and_the_server_stays_up(server, raw, status):
    answer, body = await request(server.port, raw)
    assert answer == status, body[:300]
    assert b"Traceback" not in body and b"File \"" not in body
    assert (await request(server.port, get("/healthz")))[0] == 200


async def test_a_replayed_slack_command_is_handled_once(server):
    fields = fake_slack.slash_command(OLGA_SLACK, "olga", "/task", "Replayed once", channel_id="C0GENERAL01",
                                      response_url=f"{server.slack.root}/response/1",
                                      trigger_id=server.slack.issue_trigger(OLGA_SLACK))
    body = urlencode(fields).encode()
    raw = post("/slack/events", body, slack_signed(body))
    assert (await request(server.port, raw))[0] == 200
    assert (await request(server.port, raw)) == (200, b"")  # the same signed bytes: acknowledged, not handled
    store = Store.from_url(server.url)
    try:
        with store.session() as session:
            count = session.exec(select(func.count()).select_from(Task).where(Task.title == "Replayed once")).one()
    finally:
        store.engine.dispose()
    assert count == 1


# ----- slow and greedy clients -------------------------------------------------------


async def closed_within(reader: asyncio.StreamReader, limit_s: float) -> bytes:
    """What the server said before it closed the connection; fails if it stays open past the limit."""
    return await asyncio.wait_for(reader.read(), limit_s)


async def test_a_client_dripping_its_headers_is_cut_off(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = asyncio.get_running_loop().time()
    try:
        for byte in b"POST /slack/events HTTP/1.1\r\nHost: x\r\n":
            if reader.at_eof():
                break
            writer.write(bytes([byte]))
            await asyncio.sleep(0.1)
        await closed_within(reader, 3)
    finally:
        writer.close()
    assert asyncio.get_running_loop().time() - started < 5


async def test_an_idle_keep_alive_connection_is_closed(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive by default
        answer = await closed_within(reader, 3)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 200")


async def test_a_slow_body_is_answered_408(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(post("/forms/callback", b'{"step"', length=100))
        answer = await closed_within(reader, 3)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408") and b'"error"' in answer


async def test_connections_past_the_cap_are_turned_away_then_let_in_again(server):
    held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(12)]
    try:
        status, body = await request(server.port, get("/healthz"))
        assert (status, json.loads(body)) == (503, {"error": "too many connections"})
    finally:
        for _reader, writer in held:
            writer.close()
    for _ in range(100):  # the held ones are gone once the server notices
        if (await request(server.port, get("/healthz")))[0] == 200:
            break
        await asyncio.sleep(0.02)
    assert (await request(server.port, get("/healthz")))[0] == 200
