"""A fake Slack Web API on loopback for tests, plus builders of requests exactly as Slack sends them.

The fake is a small aiohttp app on 127.0.0.1 that answers the Web API the way
Slack does, so the real ``AsyncWebClient`` (and bolt on top of it) can be
tested without the network::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.token, base_url=fake.url + "/")
        await client.chat_postMessage(channel="C1", text="hi")
        assert fake.sent("C1")[0]["text"] == "hi"

What it does, in short:

* ``POST``/``GET /api/<method>`` with a JSON, form or query body, checking the
  bearer token; answers ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``.
  Methods: auth.test, chat.postMessage, chat.update, chat.postEphemeral,
  conversations.open, users.info, views.open, views.publish, apps.connections.open.
* Every call is recorded (:attr:`FakeSlack.calls`); messages, ephemerals,
  opened modals, published homes and response_url posts are kept for tests to read.
* Block Kit limits are checked as Slack does (``invalid_blocks``): 50 blocks
  in a message, 100 in a view, 3 000 characters in a section, 25 elements in
  an actions block, 75 in a button label, unique action ids.
* :meth:`FakeSlack.fail_next` scripts an error, e.g. a 429 with ``Retry-After``.
* ``/socket``: a Socket Mode WebSocket; :meth:`FakeSlack.push` sends an envelope
  and returns the app's acknowledgement.

The module-level builders (:func:`slash_command`, :func:`block_actions`,
:func:`view_submission`, :func:`event_callback`, …) shape requests like the
ones Slack posts to a Request URL; :func:`signed_headers` signs them.
This module deliberately does not import slack_sdk or slack_bolt.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

DEFAULT_TOKEN = "xoxb-0000-test-token"
APP_TOKEN = "xapp-1-test-app-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = {"id": "T0TEAM0001", "domain": "teamflow"}
BOT_USER, BOT_ID, APP_ID = "U0BOT00001", "B0BOT00001", "A0APP00001"
JSON_FIELDS = frozenset({"blocks", "view", "attachments", "metadata"})
MESSAGE_BLOCKS, VIEW_BLOCKS, SECTION_TEXT, ACTION_ELEMENTS, BUTTON_TEXT = 50, 100, 3000, 25, 75


@dataclass
class Call:
    """One Web API call as the fake received it (``params`` decoded)."""

    method: str
    params: dict[str, Any]
    at: float
    response: dict[str, Any] | None = None


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None


class SlackError(Exception):
    def __init__(self, error: str, status: int = 200, retry_after: int | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after = error, status, retry_after


@dataclass
class FakeSlack:
    """An in-process Slack Web API. See the module docstring."""

    token: str = DEFAULT_TOKEN
    app_token: str = APP_TOKEN
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    modals: list[dict[str, Any]] = field(default_factory=list)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    closed_channels: set[str] = field(default_factory=set)  # the bot may not post there

    def __post_init__(self) -> None:
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._triggers: dict[str, str] = {}  # trigger_id -> member, each usable once
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle ------------------------------------------------------------

    async def start(self) -> "FakeSlack":
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> "FakeSlack":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The Web API base URL (SLACK_API_URL)."""
        return f"{self.root}/api"

    # ----- what tests set up and read ---------------------------------------------

    def add_user(self, user_id: str, *, name: str, email: str | None = None, locale: str | None = "en-US") -> None:
        self.users[user_id] = {"id": user_id, "team_id": TEAM["id"], "name": name, "real_name": name,
                               "locale": locale, "profile": {"email": email, "real_name": name}}

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id, as Slack puts in an interaction payload (one modal, once)."""
        trigger = f"{next(self._ts)}.{TEAM['id'][1:]}.{hashlib.md5(user_id.encode()).hexdigest()[:16]}"
        self._triggers[trigger] = user_id
        return trigger

    def fail_next(self, method: str, *, error: str = "ratelimited", status: int = 429,
                  retry_after: int | None = 1) -> None:
        """The next call of `method` fails like this (a 429 carries Retry-After)."""
        self._failures[method].append(_Failure(error, status, retry_after if status == 429 else None))

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent(self, channel: str) -> list[dict[str, Any]]:
        """Messages in a channel (thread replies too), oldest first, as they are now."""
        return [m for (ch, _ts), m in self.messages.items() if ch == channel]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        return self.messages[(channel, ts)]

    def ephemerals_for(self, user_id: str) -> list[dict[str, Any]]:
        return [e for e in self.ephemerals if e["user"] == user_id]

    # ----- the Web API -------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        try:
            self._check_token(method, request.headers.get("Authorization", ""), params)
            if self._failures[method]:
                failure = self._failures[method].popleft()
                raise SlackError(failure.error, failure.status, failure.retry_after)
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                raise SlackError("unknown_method", 404)
            body = {"ok": True, **handler(params)}
            status, headers = 200, {}
        except SlackError as exc:
            body, status = {"ok": False, "error": exc.error}, exc.status
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
        call.response = body
        return web.json_response(body, status=status, headers=headers)

    def _check_token(self, method: str, authorization: str, params: dict[str, Any]) -> None:
        given = authorization.removeprefix("Bearer ").strip() or params.get("token")
        expected = self.app_token if method == "apps.connections.open" else self.token
        if not given:
            raise SlackError("not_authed")
        if given != expected:
            raise SlackError("invalid_auth")

    def _auth_test(self, params) -> dict:
        return {"url": f"https://{TEAM['domain']}.slack.com/", "team": "Teamflow", "user": "teamflow",
                "team_id": TEAM["id"], "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _chat_postMessage(self, params) -> dict:
        channel = self._channel(params.get("channel"))
        _check_message(params)
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "app_id": APP_ID, "channel": channel,
                   "ts": ts, "text": params.get("text", ""), "blocks": params.get("blocks") or [], "edits": 0}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        self.messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": {k: v for k, v in message.items() if k != "edits"}}

    def _chat_update(self, params) -> dict:
        channel = self._channel(params.get("channel"))
        message = self.messages.get((channel, str(params.get("ts"))))
        if message is None:
            raise SlackError("message_not_found")
        _check_message(params)
        message.update(text=params.get("text", message["text"]), blocks=params.get("blocks") or [])
        message["edits"] += 1
        return {"channel": channel, "ts": message["ts"], "text": message["text"]}

    def _chat_postEphemeral(self, params) -> dict:
        channel = self._channel(params.get("channel"))
        if params.get("user") not in self.users:
            raise SlackError("user_not_in_channel")
        _check_message(params)
        self.ephemerals.append({"channel": channel, "user": params["user"], "text": params.get("text", ""),
                                "blocks": params.get("blocks") or [], "thread_ts": params.get("thread_ts")})
        return {"message_ts": f"{1_700_000_000 + next(self._ts)}.000200"}

    def _conversations_open(self, params) -> dict:
        user = str(params.get("users", "")).split(",")[0]
        if user not in self.users:
            raise SlackError("user_not_found")
        return {"channel": {"id": _dm_of(user)}}

    def _users_info(self, params) -> dict:
        user = self.users.get(str(params.get("user")))
        if user is None:
            raise SlackError("user_not_found")
        shown = dict(user)
        if str(params.get("include_locale")).lower() not in ("true", "1"):
            shown.pop("locale", None)
        return {"user": shown}

    def _views_open(self, params) -> dict:
        user = self._triggers.pop(str(params.get("trigger_id")), None)
        if user is None:
            raise SlackError("invalid_trigger_id")
        view = _check_view(params.get("view"), "modal")
        self.modals.append({"user": user, "view": view})
        return {"view": {"id": f"V{next(self._ts):08d}", "team_id": TEAM["id"], **view, "state": {"values": {}}}}

    def _views_publish(self, params) -> dict:
        if params.get("user_id") not in self.users:
            raise SlackError("user_not_found")
        self.homes[params["user_id"]] = _check_view(params.get("view"), "home")
        return {"view": {"id": f"V{next(self._ts):08d}", **self.homes[params["user_id"]]}}

    def _apps_connections_open(self, params) -> dict:
        return {"url": f"ws://127.0.0.1:{self.port}/socket"}

    def _channel(self, channel: Any) -> str:
        channel = str(channel or "")
        if not channel:
            raise SlackError("channel_not_found")
        if channel.startswith("U"):  # Slack posts to a member id in the DM with them
            channel = _dm_of(channel)
        if channel in self.closed_channels:
            raise SlackError("not_in_channel")
        return channel

    # ----- response_url and Socket Mode --------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"id": request.match_info["id"], **body})
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                ack = json.loads(msg.data)
                future = self._acks.pop(ack.get("envelope_id", ""), None)
                if future and not future.done():
                    future.set_result(ack)
        self._sockets.remove(ws)
        return ws

    async def connected(self, timeout: float = 10) -> None:
        """Wait until the app has dialled in over Socket Mode."""
        for _ in range(int(timeout / 0.02)):
            if self._sockets:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the app never connected over Socket Mode")

    async def push(self, kind: str, payload: dict, timeout: float = 10) -> dict:
        """Send an envelope (slash_commands, interactive, events_api); the app's ack comes back."""
        envelope_id = f"env-{next(self._ts)}"
        self._acks[envelope_id] = asyncio.get_running_loop().create_future()
        await self._sockets[-1].send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                           "accepts_response_payload": kind != "events_api", "retry_attempt": 0})
        return await asyncio.wait_for(self._acks[envelope_id], timeout)


# --------------------------------------------------------------------------- checks


def _dm_of(user_id: str) -> str:
    return "D" + user_id[1:]


def _check_message(params: dict) -> None:
    if not params.get("text") and not params.get("blocks"):
        raise SlackError("no_text")
    _check_blocks(params.get("blocks") or [], MESSAGE_BLOCKS)


def _check_view(view: Any, kind: str) -> dict:
    if not isinstance(view, dict) or view.get("type") != kind:
        raise SlackError("invalid_arguments")
    if kind == "modal" and any(len((view.get(key) or {}).get("text", "")) > 24 for key in ("title", "submit", "close")):
        raise SlackError("invalid_arguments")
    if len(view.get("private_metadata") or "") > 3000:
        raise SlackError("invalid_arguments")
    _check_blocks(view.get("blocks") or [], VIEW_BLOCKS)
    return view


INPUT_ELEMENTS = {"plain_text_input", "static_select", "multi_static_select", "radio_buttons", "checkboxes",
                  "datepicker", "datetimepicker", "number_input", "email_text_input", "url_text_input", "file_input"}


def _check_input(block: dict) -> None:
    """An input block: a label of at most 2000, one known element, at most 100 options of 75 characters."""
    element = block.get("element") or {}
    label = (block.get("label") or {}).get("text", "")
    if not label or len(label) > 2000 or element.get("type") not in INPUT_ELEMENTS or not element.get("action_id"):
        raise SlackError("invalid_blocks")
    options = element.get("options")
    if element["type"] in ("static_select", "multi_static_select", "radio_buttons", "checkboxes"):
        if not options or len(options) > 100 or any(len(o["text"]["text"]) > 75 for o in options):
            raise SlackError("invalid_blocks")
    if len((block.get("hint") or {}).get("text", "")) > 2000:
        raise SlackError("invalid_blocks")


def _check_blocks(blocks: list, limit: int) -> None:
    """Slack's Block Kit limits; breaking one is `invalid_blocks`."""
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise SlackError("invalid_blocks")
    action_ids, block_ids = set(), set()
    for block in blocks:
        if block.get("block_id"):
            if block["block_id"] in block_ids:
                raise SlackError("invalid_blocks")
            block_ids.add(block["block_id"])
        if block.get("type") == "section":
            text = (block.get("text") or {}).get("text", "")
            if not text or len(text) > SECTION_TEXT:
                raise SlackError("invalid_blocks")
        if block.get("type") == "input":
            _check_input(block)
        if block.get("type") == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > ACTION_ELEMENTS:
                raise SlackError("invalid_blocks")
            for element in elements:
                if len(element.get("text", {}).get("text", "")) > BUTTON_TEXT or element.get("action_id") in action_ids:
                    raise SlackError("invalid_blocks")
                action_ids.add(element.get("action_id"))


async def _params(request: web.Request) -> dict[str, Any]:
    """Query, form and JSON bodies merged, JSON-valued form fields decoded (as Slack accepts them)."""
    params: dict[str, Any] = dict(request.query)
    raw = await request.read()
    if request.content_type == "application/json" and raw:
        params.update(json.loads(raw))
    elif raw:
        params.update(parse_qsl(raw.decode(), keep_blank_values=True))
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            params[key] = json.loads(params[key])
    return params


# --------------------------------------------------------------------------- what Slack posts to us


def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    """The headers Slack sends: X-Slack-Request-Timestamp and the v0 HMAC-SHA256 signature."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def slash_command(user_id: str, user_name: str, command: str, text: str, *, channel_id: str, response_url: str,
                  trigger_id: str, channel_name: str = "general") -> dict[str, str]:
    """The form fields of a slash command."""
    return {
        "token": "verification-token-unused", "team_id": TEAM["id"], "team_domain": TEAM["domain"],
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
        "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": trigger_id,
    }


def block_actions(user_id: str, user_name: str, *, message: dict | None, action: dict, trigger_id: str,
                  response_url: str | None, channel_id: str | None = None, ephemeral: bool = False,
                  view: dict | None = None) -> dict:
    """A button tap on a message (or on a view such as App Home): the `payload` JSON."""
    user = {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM["id"]}
    payload: dict[str, Any] = {
        "type": "block_actions", "user": user, "api_app_id": APP_ID, "token": "verification-token-unused",
        "trigger_id": trigger_id, "team": TEAM, "enterprise": None, "is_enterprise_install": False,
        "actions": [{**action, "type": "button", "action_ts": f"{time.time():.6f}"}],
    }
    if view is not None:
        payload.update(container={"type": "view", "view_id": view.get("id", "V0HOME")}, view=view)
        return payload
    payload.update(container={"type": "message", "message_ts": message["ts"], "channel_id": channel_id,
                              "is_ephemeral": ephemeral},
                   channel={"id": channel_id, "name": "general"}, response_url=response_url,
                   state={"values": {}})
    if not ephemeral:
        payload["message"] = {k: v for k, v in message.items() if k != "edits"}
    return payload


def view_submission(user_id: str, user_name: str, view: dict, values: dict[str, dict[str, Any]], *,
                    trigger_id: str = "unused") -> dict:
    """A modal's Submit: the view as opened, with what was typed in `state.values` (text, or an element's
    whole state such as {"type": "static_select", "selected_option": …}). Slack gives every submission
    a trigger_id of its own, so two presses of Submit are never the same signed bytes."""
    state = {block: {action: value if isinstance(value, dict) else {"type": "plain_text_input", "value": value}
                     for action, value in fields.items()}
             for block, fields in values.items()}
    return {
        "type": "view_submission", "team": TEAM, "api_app_id": APP_ID, "token": "verification-token-unused",
        "trigger_id": trigger_id,
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM["id"]},
        "view": {"id": "V0MODAL", "team_id": TEAM["id"], **view, "state": {"values": state}, "hash": "h-1",
                 "app_id": APP_ID, "bot_id": BOT_ID},
        "response_urls": [], "is_enterprise_install": False,
    }


def event_callback(event: dict, event_id: str) -> dict:
    """An Events API delivery."""
    return {
        "token": "verification-token-unused", "team_id": TEAM["id"], "api_app_id": APP_ID, "event": event,
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM["id"], "user_id": BOT_USER, "is_bot": True}],
        "is_ext_shared_channel": False, "event_context": f"ctx-{event_id}",
    }


def message_event(user_id: str, channel: str, text: str, *, ts: str, thread_ts: str | None = None,
                  channel_type: str = "channel", files: list[dict] | None = None) -> dict:
    event = {"type": "message", "user": user_id, "text": text, "ts": ts, "channel": channel,
             "channel_type": channel_type, "event_ts": ts, "team": TEAM["id"]}
    if thread_ts:
        event["thread_ts"] = thread_ts
    if files:
        event.update(subtype="file_share", files=files)
    return event


def app_home_opened(user_id: str, tab: str = "home") -> dict:
    return {"type": "app_home_opened", "user": user_id, "channel": _dm_of(user_id), "tab": tab,
            "event_ts": f"{time.time():.6f}"}
