"""The two ways Slack reaches us: HTTP (POST /slack/events) or Socket Mode.

HTTP mode mounts bolt on the one aiohttp server. Before bolt sees a request
the door checks it, so no header or body can make it fail: the signature
headers must have Slack's shape and the signature must match (401, as bolt
answers), the body must be UTF-8 (400) with a JSON object where Slack puts one (400),
and a request signed with a signature already seen is a replay (Slack never
sends the same signed bytes twice: a retried event has a new timestamp) and is
acknowledged without being handled. Bolt then checks the signature and its age
again (older than 5 minutes: 401). Socket Mode (SLACK_APP_TOKEN set) needs no
public URL: the app dials out to Slack.
"""
from __future__ import annotations

import asyncio
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from core.infra.dedupe import MemorySeen

EVENTS_PATH = "/slack/events"
# Requests inside bolt at once. A burst of hundreds would otherwise all be in flight,
# each loop iteration stepping every one of them, and /healthz (or any other door)
# waits behind the whole burst; past the cap they wait their turn without costing a step.
DISPATCHING = 16
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
TIMESTAMP = re.compile(r"[0-9]{1,12}")


def refuse(status: int, text: str) -> web.Response:
    """A refusal as the whole web server words it: JSON {"error": …}."""
    return web.json_response({"error": text}, status=status)


def signed(verifier: SignatureVerifier, headers, text: str) -> bool:
    """Slack's signature headers in their shape, and a signature that matches the body."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (TIMESTAMP.fullmatch(timestamp) and SIGNATURE.fullmatch(signature)):
        return False
    return verifier.is_valid(text, timestamp, signature)


def utf8(body: bytes) -> str | None:
    """The body as text; None when it is not UTF-8 (Slack only sends UTF-8)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def parses(text: str, content_type: str | None) -> bool:
    """Is there a Slack request in it: form data, or a JSON object where JSON is due?"""
    try:
        return bool(text) and isinstance(parse_body(text, content_type), dict)
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason
        return False


def register_events(server: web.Application, app: AsyncApp, signing_secret: str, *, seen=None,
                    path: str = EVENTS_PATH) -> None:
    """`POST /slack/events`: slash commands, interactions and events, checked, then through bolt."""
    verifier = SignatureVerifier(signing_secret or "unset")  # no secret: nothing verifies
    seen = seen or MemorySeen()
    turns = asyncio.Semaphore(DISPATCHING)

    async def slack_events(request: web.Request) -> web.Response:
        text = utf8(await request.read())
        if text is None:
            return refuse(400, "the body is not UTF-8")
        if not signing_secret or not signed(verifier, request.headers, text):
            return refuse(401, "missing or invalid Slack signature")
        if not parses(text, request.content_type):
            return refuse(400, "the body is not a Slack request (form data or a JSON object)")
        if not await seen.first_time("slack-signature:" + request.headers["X-Slack-Signature"]):
            return web.Response(status=200)  # a replay of a request already handled
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)
        async with turns:
            response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    server.router.add_post(path, slack_events)


async def start_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Connect to Slack over a WebSocket; `await handler.close_async()` to stop."""
    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()
    return handler
