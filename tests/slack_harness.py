"""The real bolt AsyncApp, wired by the product and mounted on a loopback aiohttp server,
against the fake Slack Web API. Requests are built and signed exactly as Slack sends them."""
from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import durable
from adapters.slack.modes import EVENTS_PATH, register_events
from adapters.slack.wiring import connect
from bot.app import DEMO_ORG, add_messenger
from core.infra.ratelimit import RateLimiter
from tests.conftest import make_app
from tests.fakes import slack_api as fake_slack

# The demo org's people as the fake workspace knows them: (member id, e-mail, Slack locale).
USERS = {
    "olga": ("U01OLGA0002", "olga@example.com", "en-US"), "pavel": ("U01PAVEL004", "pavel@example.com", "ru-RU"),
    "ivan": ("U01IVAN0001", "ivan@example.com", "en-GB"), "maria": ("U01MARIA003", "maria@example.com", "ru-RU"),
    "anna": ("U01ANNA0005", "anna@example.com", None), "stranger": ("U0STRANGER1", "guy@elsewhere.com", "en-US"),
}
GENERAL = "C0GENERAL01"
LISTENER_TASK = "run_ack_function_asynchronously"  # bolt runs each listener in such a task after the ack


class Reply:
    """An HTTP answer from /slack/events."""

    def __init__(self, status: int, text: str) -> None:
        self.status, self.text = status, text

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class SlackHarness:
    """Posts real, signed Slack requests to the product's /slack/events; the fake records what the app did."""

    def __init__(self, store, clock, *, scale: float = 1000.0, org_file=DEMO_ORG, users=USERS) -> None:
        self.store, self.clock, self.scale, self.org_file, self.users = store, clock, scale, org_file, users
        self.fake = fake_slack.FakeSlack()
        self._ids = itertools.count(1)

    async def __aenter__(self) -> "SlackHarness":
        await self.fake.start()
        for who, (user_id, email, locale) in self.users.items():
            self.fake.add_user(user_id, name=who, email=email, locale=locale)
        self.app = make_app(self.store, None, self.clock, org_file=self.org_file)
        self.bolt, self.slack = await connect(self.app, self.fake.token, fake_slack.SIGNING_SECRET,
                                              api_url=self.fake.url, limiter=RateLimiter(scale=self.scale))
        add_messenger(self.app, self.slack)
        server = web.Application()
        register_events(server, self.bolt, fake_slack.SIGNING_SECRET)
        self.http = TestClient(TestServer(server, host="127.0.0.1"))
        await self.http.start_server()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.settle()
        await self.http.close()
        await self.fake.stop()

    # ----- the wire ---------------------------------------------------------------

    async def post(self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None,
                   secret: str = fake_slack.SIGNING_SECRET, timestamp: int | None = None) -> Reply:
        """One signed request to /slack/events; waits for the listeners bolt ran after its ack."""
        signed = fake_slack.signed_headers(body, secret=secret, timestamp=timestamp, content_type=content_type)
        async with self.http.post(EVENTS_PATH, data=body, headers={**signed, **(headers or {})}) as response:
            reply = Reply(response.status, await response.text())
        await self.settle()
        return reply

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until no listener bolt started after an ack is still running."""
        for _ in range(int(timeout / 0.01)):
            pending = [t for t in asyncio.all_tasks() if not t.done()
                       and LISTENER_TASK in getattr(t.get_coro(), "__qualname__", "")]
            pending += [t for t in durable._tasks if not t.done()]  # requests acked before their record
            if not pending:
                return
            await asyncio.wait(pending, timeout=0.01)
        raise AssertionError("listeners still running after the timeout")

    async def post_form(self, fields: dict[str, str], **kw) -> Reply:
        return await self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kw)

    async def post_payload(self, payload: dict, **kw) -> Reply:
        return await self.post_form({"payload": json.dumps(payload)}, **kw)

    async def post_event(self, event: dict, *, event_id: str | None = None, **kw) -> Reply:
        body = fake_slack.event_callback(event, event_id or f"Ev{next(self._ids):08d}")
        return await self.post(json.dumps(body).encode(), "application/json", **kw)

    # ----- what people do -------------------------------------------------------------

    def response_url(self) -> str:
        return f"{self.fake.root}/response/{next(self._ids)}"

    async def command(self, who: str, line: str, channel: str = GENERAL) -> Reply:
        """Type a slash command, e.g. `/task Buy trays @pavel` (mentions as Slack escapes them)."""
        name, _, text = line.partition(" ")
        user_id = self.users[who][0]
        fields = fake_slack.slash_command(user_id, who, name, self.escape_mentions(text), channel_id=channel,
                                          response_url=self.response_url(), trigger_id=self.fake.issue_trigger(user_id))
        return await self.post_form(fields)

    def escape_mentions(self, text: str) -> str:
        """Text as Slack sends it: &, <, > escaped, `@pavel` -> `<@U01PAVEL004|pavel>`, `@here` -> `<!here>`."""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for who, (user_id, _email, _locale) in self.users.items():
            text = text.replace(f"@{who}", f"<@{user_id}|{who}>")
        for special in ("here", "channel", "everyone"):
            text = text.replace(f"@{special}", f"<!{special}>")
        return text

    async def tap(self, who: str, message: dict, label: str, *, ephemeral: bool = False,
                  value: str | None = None) -> Reply:
        """Tap the button labelled `label` on a message (or post a forged `value` for it)."""
        user_id = self.users[who][0]
        action = dict(self.buttons(message)[label])
        if value is not None:
            action["value"] = value
        payload = fake_slack.block_actions(user_id, who, message=message, action=action, ephemeral=ephemeral,
                                           trigger_id=self.fake.issue_trigger(user_id),
                                           response_url=self.response_url(), channel_id=message.get("channel"))
        return await self.post_payload(payload)

    async def tap_home(self, who: str, label: str, *, value: str | None = None) -> Reply:
        """Tap a button on the person's App Home tab (as last published)."""
        user_id = self.users[who][0]
        view = self.fake.homes[user_id]
        action = {**self.buttons(view)[label], **({"value": value} if value is not None else {})}
        payload = fake_slack.block_actions(user_id, who, message=None, action=action,
                                           trigger_id=self.fake.issue_trigger(user_id), response_url=None, view=view)
        return await self.post_payload(payload)

    async def submit(self, who: str, view: dict, text: str) -> Reply:
        """Type into the modal's one field and press Submit."""
        block = next(b for b in view["blocks"] if b["type"] == "input")
        values = {block["block_id"]: {block["element"]["action_id"]: text}}
        return await self.post_payload(fake_slack.view_submission(self.users[who][0], who, view, values,
                                                                  trigger_id=self.fake.issue_trigger(self.users[who][0])))

    async def fill(self, who: str, view: dict, answers: dict[str, Any]) -> Reply:
        """Fill a form's modal as a person would (by field id: text typed, an option picked by its label or
        value, a person as @handle, a date as 2026-12-14 or 14.12.2026, files by name) and press Send."""
        values = {}  # Slack sends every input block's state, an untouched one empty
        for block in view["blocks"]:
            field = block.get("block_id", "").removeprefix("f:")
            if block["type"] == "input":
                element = block["element"]
                state = self._state(element, answers[field]) if field in answers else self._empty(element)
                values[block["block_id"]] = {element["action_id"]: state}
        return await self.post_payload(fake_slack.view_submission(self.users[who][0], who, view, values,
                                                                  trigger_id=self.fake.issue_trigger(self.users[who][0])))

    def _state(self, element: dict, answer: Any) -> dict:
        kind = element["type"]
        if kind in ("static_select", "radio_buttons"):
            return {"type": kind, "selected_option": self._option(element, answer)}
        if kind == "multi_static_select":
            picked = answer if isinstance(answer, list) else [a.strip() for a in str(answer).split(",")]
            return {"type": kind, "selected_options": [self._option(element, a) for a in picked]}
        if kind == "datepicker":
            day, month, *year = str(answer).split(".") if "." in str(answer) else ("", "", "")
            iso = f"{year[0] if year else 2026}-{int(month):02d}-{int(day):02d}" if day else str(answer)
            return {"type": kind, "selected_date": iso}
        if kind == "file_input":
            names = answer if isinstance(answer, list) else [answer]
            return {"type": kind, "files": [{"id": f"F0{next(self._ids):08d}", "name": name,
                                             "mimetype": "application/pdf", "size": 20_480} for name in names]}
        return {"type": kind, "value": str(answer)}

    @staticmethod
    def _empty(element: dict) -> dict:
        kind = element["type"]
        empty = {"static_select": {"selected_option": element.get("initial_option")},  # as shown, untouched
                 "radio_buttons": {"selected_option": element.get("initial_option")},
                 "multi_static_select": {"selected_options": element.get("initial_options", [])},
                 "datepicker": {"selected_date": element.get("initial_date")}, "file_input": {"files": []}}
        return {"type": kind, **empty.get(kind, {"value": element.get("initial_value")})}

    @staticmethod
    def _option(element: dict, answer: str) -> dict:
        wanted = str(answer).lstrip("@").casefold()
        for option in element["options"]:
            if wanted in (option["value"].casefold(), option["text"]["text"].casefold()):
                return option
        raise AssertionError(f"no option {answer!r} among {[o['text']['text'] for o in element['options']]}")

    async def say(self, who: str, text: str, *, channel: str, thread_ts: str | None = None,
                  channel_type: str = "channel", files: list[dict] | None = None, **kw) -> Reply:
        ts = f"{1_800_000_000 + next(self._ids)}.000300"
        event = fake_slack.message_event(self.users[who][0], channel, text, ts=ts, thread_ts=thread_ts,
                                         channel_type=channel_type, files=files)
        return await self.post_event(event, **kw)

    async def open_home(self, who: str) -> Reply:
        return await self.post_event(fake_slack.app_home_opened(self.users[who][0]))

    async def deliver(self) -> int:
        """Run the outbox until nothing is due (what the scheduler's tick does)."""
        return await self.app.delivery.drain()

    # ----- what the app did -------------------------------------------------------------

    def dm(self, who: str) -> str:
        return "D" + self.users[who][0][1:]

    def last(self, channel: str) -> dict:
        sent = self.fake.sent(channel)
        assert sent, f"nothing was posted in {channel}"
        return sent[-1]

    def text(self, message: dict) -> str:
        """Everything a message shows: its sections' text."""
        return "\n".join(b["text"]["text"] for b in message.get("blocks", []) if b["type"] in ("section", "header"))

    def buttons(self, message: dict) -> dict[str, dict[str, str]]:
        """Button label -> the action as a tap reports it (action_id, block_id, value, text)."""
        found = {}
        for block in message.get("blocks", []):
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                found[element["text"]["text"]] = {"action_id": element["action_id"], "block_id": block["block_id"],
                                                  "value": element["value"], "text": element["text"]}
        return found

    def ephemerals(self, who: str) -> list[dict]:
        return self.fake.ephemerals_for(self.users[who][0])

    def responses(self) -> list[dict]:
        return self.fake.responses

    def modal(self, who: str) -> dict:
        opened = [m["view"] for m in self.fake.modals if m["user"] == self.users[who][0]]
        assert opened, f"no modal was opened for {who}"
        return opened[-1]

    def home(self, who: str) -> dict:
        return self.fake.homes[self.users[who][0]]
