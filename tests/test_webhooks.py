"""Outgoing webhooks: task and request events posted, signed, to a receiver on loopback.

The receiver checks the HMAC signature of every POST (a bad one is answered 401, which
would show up as a refused event) and answers from a script. The org file names it, as
an admin would; tasks are made and closed through the console chat.
"""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import select

from adapters.console.session import ConsoleSession
from bot.app import DEMO_ORG
from bot.cli import main
from core import forms
from core.config.org import load_org, parse_org, sync_org
from core.domain.models import Outbox, Person, TaskEvent, Webhook, WebhookFailure
from core.forms.automation import SIGNATURE_HEADER, verify
from core.infra import webhook_admin, webhooks
from core.infra import scheduler as scheduling
from core.infra.store import Store
from core.infra.webhooks import EVENT_HEADER, EVENT_ID_HEADER
from core.presentation.notices import NoticeRenderer
from tests.conftest import make_app
from tests.forms_desk import Desk

SECRET = "hook-secret-for-tests"


class Receiver:
    """The customer's endpoint: refuses bad signatures, answers from a script (then 200)."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.seen: list[dict] = []  # every POST with a good signature
        self.forged = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(SECRET, body, request.headers.get(SIGNATURE_HEADER)):
            self.forged += 1
            return web.json_response({"error": "bad signature"}, status=401)
        status = self.script.pop(0) if self.script else 200
        self.seen.append({"id": request.headers[EVENT_ID_HEADER], "event": request.headers[EVENT_HEADER],
                          "body": json.loads(body), "status": status})
        return web.Response(status=status, text="receiver says\x00 no" if status >= 400 else "")  # NUL: PostgreSQL

    @property
    def got(self) -> list[dict]:
        return [r for r in self.seen if 200 <= r["status"] < 300]

    def names(self) -> list[str]:
        return [r["event"] for r in self.got]


@pytest.fixture
async def receiver():
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/teamflow", found.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    found.url = str(server.make_url("/hooks/teamflow"))
    yield found
    await server.close()


def org_text(url: str, events: str = "[task.created, task.done]") -> str:
    """The demo org plus a webhooks section."""
    return DEMO_ORG.read_text(encoding="utf-8") + f"""
webhooks:
  - name: crm
    url: {url}
    secret_env: CRM_HOOK_SECRET
    events: {events}
"""


class Team:
    """The app with a hook to the receiver, the console chat, and the scheduler's webhook job."""

    def __init__(self, app, clock) -> None:
        self.app, self.store, self.clock = app, app.store, clock
        self.console = ConsoleSession(app, "olga")

    def say(self, who: str, text: str) -> str:
        if self.console.actor.handle != who:
            self.console.type(f"/as {who}")
        return self.console.type(text)

    async def send(self, **delta) -> int:
        """Move the clock, then run the webhook job once; returns how many POSTs it made."""
        self.clock.advance(**delta)
        return await webhooks.run_due(self.store, self.clock())

    def hook(self, key: str = "crm") -> Webhook:
        with self.store.session() as session:
            return session.get(Webhook, key)

    def failures(self) -> list[WebhookFailure]:
        with self.store.session() as session:
            return list(session.exec(select(WebhookFailure).order_by(WebhookFailure.id)))

    def alerts(self, handle: str) -> list[Outbox]:
        with self.store.session() as session:
            person = session.exec(select(Person).where(Person.handle == handle)).one()
            return list(session.exec(select(Outbox).where(Outbox.recipient_id == person.id,
                                                          Outbox.template == "webhook_failed")))

    def rendered(self, row: Outbox) -> str:
        renderer = NoticeRenderer(self.app.templates, self.app.defaults, self.clock)
        with self.store.session() as session:
            return renderer.notice(session, row, session.get(Person, row.recipient_id), "console").text

    def last_event_id(self) -> int:
        with self.store.session() as session:
            return session.exec(select(TaskEvent.id).order_by(TaskEvent.id.desc())).first()


@pytest.fixture
def org_file(receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_HOOK_SECRET", SECRET)
    path = tmp_path / "org.yaml"
    path.write_text(org_text(receiver.url), encoding="utf-8")
    return path


@pytest.fixture
def team(sqlite_store, messenger, clock, org_file):
    return Team(make_app(sqlite_store, messenger, clock, org_file=org_file), clock)


# --- delivery ----------------------------------------------------------------------


async def test_a_task_made_and_closed_in_chat_arrives_signed_once_each_in_order(team, receiver):
    assert "#1" in team.say("olga", "/task Order resin @pavel")
    team.say("pavel", "/take 1")  # task.taken: not subscribed
    team.say("pavel", "/done 1")
    assert await team.send() == 2
    assert receiver.names() == ["task.created", "task.done"] and receiver.forged == 0
    created, done = (r["body"] for r in receiver.got)
    assert [r["id"] for r in receiver.got] == [created["id"], done["id"]] and int(created["id"]) < int(done["id"])
    assert created["actor"] == {"handle": "olga", "name": "Olga Reshetova"} and done["actor"]["handle"] == "pavel"
    assert created["kind"] == "created" and created["data"]["title"] == "Order resin"
    assert done["task"] | {"created_at": None, "closed_at": None} == {
        "id": 1, "title": "Order resin", "status": "done", "creator": "olga", "assignee": "pavel", "due_at": None,
        "created_at": None, "closed_at": None}
    assert "request" not in done and done["at"].endswith("+00:00")
    assert await team.send(minutes=5) == 0 and len(receiver.seen) == 2  # each once
    assert team.hook().cursor == team.last_event_id() and team.hook().sent == 2


async def test_a_receiver_answering_500_gets_the_event_again_with_the_same_id_and_order_kept(team, receiver):
    receiver.script = [500]
    team.say("olga", "/task Order resin @pavel")
    team.say("pavel", "/done 1")
    assert await team.send() == 1  # task.created failed; task.done waits behind it
    assert team.hook().error == "the receiver answered HTTP 500: receiver says no"
    assert await team.send(seconds=5) == 0  # backing off
    assert await team.send(seconds=6) == 2
    assert [(r["event"], r["status"]) for r in receiver.seen] == [
        ("task.created", 500), ("task.created", 200), ("task.done", 200)]
    assert receiver.seen[0]["id"] == receiver.seen[1]["id"]  # the receiver can dedupe by it
    hook = team.hook()
    assert (hook.attempts, hook.error, hook.failing_since) == (0, None, None)
    assert team.alerts("olga") == [] and team.failures() == []


async def test_backoff_doubles_up_to_an_hour(team, receiver):
    receiver.script = [503] * 12
    team.say("olga", "/task Order resin")
    waits = []
    for _ in range(12):
        assert await team.send(seconds=waits[-1] if waits else 0) == 1
        waits.append((team.hook().next_at.replace(tzinfo=None) - team.clock().replace(tzinfo=None)).total_seconds())
    assert waits[:4] == [10, 20, 40, 80] and waits[-1] == 3600


async def test_a_receiver_failing_for_long_is_shown_to_admins_once_and_old_events_are_recorded(team, receiver):
    receiver.script = [503] * 100
    team.say("olga", "/task Order resin")
    await team.send()
    for wait in (10, 20, 40, 80, 160, 320):  # failing for 630 s: not yet 15 minutes
        assert await team.send(seconds=wait) == 1
    assert team.alerts("olga") == [] and team.hook().attempts == 7
    await team.send(seconds=640)
    [alert] = team.alerts("olga")  # olga is the demo's admin; pavel is not
    assert team.alerts("pavel") == []
    text = team.rendered(alert)
    assert "The webhook crm is failing: the receiver answered HTTP 503" in text
    assert "webhooks section of the org file" in text
    for _ in range(30):
        await team.send(hours=1)
    assert len(team.alerts("olga")) == 1  # once for the whole run of failures
    [failure] = team.failures()  # a day on, the event is given up and recorded
    assert (failure.hook, failure.event, failure.event_id) == ("crm", "task.created", team.last_event_id())
    assert "HTTP 503" in failure.reason and failure.attempts > 10
    receiver.script = []  # the receiver is back
    team.say("olga", "/done 1")
    await team.send(hours=1)
    assert receiver.names() == ["task.done"]
    assert team.hook().failing_since is None and team.hook().alerted is False


async def test_an_event_the_receiver_refuses_is_recorded_after_three_tries_and_the_next_goes_on(team, receiver):
    receiver.script = [422, 422, 422]
    team.say("olga", "/task Order resin")
    team.say("olga", "/done 1")
    assert await team.send() == 1
    assert await team.send(seconds=10) == 1
    assert await team.send(seconds=20) == 2  # the third refusal, then task.done at once
    assert [(r["event"], r["status"]) for r in receiver.seen] == [("task.created", 422)] * 3 + [("task.done", 200)]
    [failure] = team.failures()
    assert (failure.event, failure.attempts) == ("task.created", 3) and "HTTP 422" in failure.reason


async def test_a_hook_without_its_secret_sends_nothing_and_the_admins_hear_of_it(team, receiver, monkeypatch):
    monkeypatch.delenv("CRM_HOOK_SECRET")
    team.say("olga", "/task Order resin")
    await team.send()
    assert receiver.seen == [] and receiver.forged == 0
    assert team.hook().error == "no secret to sign with: the variable CRM_HOOK_SECRET is not set"
    for _ in range(8):
        await team.send(minutes=5)
    assert "CRM_HOOK_SECRET is not set" in team.rendered(team.alerts("olga")[0])


async def test_only_subscribed_events_are_sent_and_a_new_hook_starts_at_the_end(sqlite_store, messenger, clock,
                                                                                receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_HOOK_SECRET", SECRET)
    before = Team(make_app(sqlite_store, messenger, clock), clock)  # the demo org: no webhooks yet
    before.say("olga", "/task Old news")
    path = tmp_path / "org.yaml"
    path.write_text(org_text(receiver.url, events="[task.commented, task.reopened]"), encoding="utf-8")
    team = Team(make_app(sqlite_store, messenger, clock, org_file=path), clock)  # a restart with the hook
    assert await team.send() == 0
    team.say("olga", "/task New @pavel")
    team.say("pavel", "/done 2")
    team.say("olga", "/reopen 2")
    assert await team.send() == 1
    assert receiver.names() == ["task.reopened"] and receiver.got[0]["body"]["task"]["id"] == 2
    assert team.hook().cursor == team.last_event_id()


async def test_request_events_carry_the_request(sqlite_store, messenger, clock, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_HOOK_SECRET", SECRET)
    path = tmp_path / "org.yaml"
    path.write_text(org_text(receiver.url, events="[request.*]"), encoding="utf-8")
    desk = Desk(make_app(sqlite_store, messenger, clock, org_file=path), clock)
    task_id = desk.start("pavel", "overtime", date="2026-11-29", hours=2, project="Clinic Smile", reason="Remake")
    desk.do(forms.approve, "olga", task_id, comment="OK")
    desk.do(forms.acknowledge, "anna", task_id)
    assert await webhooks.run_due(desk.store, clock()) == 4
    assert receiver.names() == ["request.submitted", "request.step_decided", "request.step_decided",
                                "request.approved"]
    submitted, decided, _ack, approved = (r["body"] for r in receiver.got)
    assert submitted["request"] | {"id": None} == {
        "id": None, "form": "overtime", "state": "done", "author": "pavel", "problem": None,
        "values": {"date": "2026-11-29", "hours": 2, "project": "Clinic Smile", "reason": "Remake"}}
    assert decided["actor"]["handle"] == "olga"
    assert (decided["data"]["outcome"], decided["data"]["comment"]) == ("approve", "OK")
    assert approved["task"]["status"] == "done" and approved["task"]["id"] == task_id


# --- workers, gaps, the scheduler -----------------------------------------------------


async def test_two_workers_never_send_the_same_event(team, receiver, sqlite_store):
    team.say("olga", "/task One")
    for number in range(2, 7):
        team.say("olga", f"/task Task {number}")
    team.say("olga", "/done 1")
    other = Store.from_url(sqlite_store.engine.url.render_as_string(hide_password=False))
    try:
        def worker(store):
            return asyncio.run(webhooks.run_due(store, team.clock()))

        made = await asyncio.gather(asyncio.to_thread(worker, team.store), asyncio.to_thread(worker, other))
    finally:
        other.engine.dispose()
    assert sum(made) == 7 and sorted(made) == [0, 7]  # one worker took the hook, the other skipped it
    ids = [r["id"] for r in receiver.got]
    assert len(ids) == len(set(ids)) == 7 and ids == sorted(ids, key=int)


async def test_an_event_id_missing_behind_later_ones_is_waited_for(team, receiver):
    team.say("olga", "/task One")
    team.say("olga", "/task Two")
    with team.store.session() as session:  # One's transaction "has not committed yet"
        late = session.exec(select(TaskEvent).order_by(TaskEvent.id)).first()
        session.delete(late)
        session.flush()
        session.expunge(late)
    assert await team.send() == 0  # Two waits for the gap before it
    with team.store.session() as session:  # …which commits
        session.add(TaskEvent(**late.model_dump()))
    assert await team.send(seconds=5) == 2
    assert [r["body"]["task"]["title"] for r in receiver.got] == ["One", "Two"]
    team.say("olga", "/task Three")
    team.say("olga", "/task Four")
    with team.store.session() as session:  # Three's transaction rolled back: its id never appears
        three = session.exec(select(TaskEvent).order_by(TaskEvent.id.desc()).offset(1)).first()
        session.delete(three)
    assert await team.send(seconds=30) == 0
    assert await team.send(minutes=2) == 1
    assert [r["body"]["task"]["title"] for r in receiver.got] == ["One", "Two", "Four"]


async def test_the_scheduler_runs_the_webhook_job(team, receiver):
    scheduler = scheduling.start(team.app)
    try:
        assert scheduler.get_job("webhooks") is not None
        team.say("olga", "/task Order resin")
        await scheduling.send_webhooks(team.app)
    finally:
        scheduler.shutdown(wait=False)
    assert receiver.names() == ["task.created"]


# --- the org file -------------------------------------------------------------------


def test_the_webhooks_section_is_read_and_synced(org_file, sqlite_store, clock):
    org = load_org(org_file)
    [hook] = org.webhooks
    assert (hook.key, hook.events, hook.secret_env, hook.timeout) == ("crm", ("task.created", "task.done"),
                                                                       "CRM_HOOK_SECRET", 10.0)
    with sqlite_store.session() as session:
        sync_org(session, org, now=clock())
    with sqlite_store.session() as session:
        row = session.get(Webhook, "crm")
        assert (row.url, row.events, row.cursor) == (hook.url, ["task.created", "task.done"], 0)
    org.webhooks.clear()  # the admin removed it
    with sqlite_store.session() as session:
        sync_org(session, org, now=clock())
    with sqlite_store.session() as session:
        assert session.exec(select(Webhook)).all() == []


HEAD = "people:\n  - id: ivan\n    name: Ivan\n"
BAD_HOOKS = HEAD + """webhooks:
  - url: https://crm.example.com/hook
    secret_env: CRM_SECRET
    events: [task.created, task.doen]
  - url: crm.example.com
    secret_env: CRM_SECRET
    events: [task.done]
  - url: https://b.example.com/hook
    events: ["*"]
    timout: 5
  - url: https://crm.example.com/hook
    secret_env: OTHER
    events: [request.*]
"""


def test_bad_webhook_entries_are_reported_with_their_lines():
    _org, problems = parse_org(BAD_HOOKS)
    assert [str(p) for p in problems] == [
        "line 7: unknown webhook event 'task.doen' (did you mean 'task.done'?)",
        "line 8: url 'crm.example.com' of a webhook must be an http(s) URL like https://example.com/hooks/teamflow",
        "line 11: webhook without a secret to sign with: add secret_env: NAME (the environment variable holding it)",
        "line 13: unknown key 'timout' in the webhook at line 11 (did you mean 'timeout'?)",
        "line 14: duplicate webhook 'https://crm.example.com/hook' (first at line 5): give each its own 'name'",
    ]


@pytest.mark.parametrize("entry, message", [
    ("webhooks: https://x.example.com", "line 4: 'webhooks' must be a list"),
    ("webhooks:\n  - url: https://x.example.com\n    secret_env: S\n", "line 5: webhook without 'events'"),
    ("webhooks:\n  - url: https://x.example.com\n    secret_env: S\n    events: []\n",
     "line 7: the events of a webhook are empty"),
    ("webhooks:\n  - url: https://x.example.com\n    secret_env: S\n    events: task.done\n",
     "line 7: the events of a webhook must be a list"),
    ("webhooks:\n  - url: https://x.example.com\n    secret: a\n    secret_env: S\n    events: ['*']\n",
     "line 6: give a webhook secret_env or secret, not both"),
    ("webhooks:\n  - url: https://x.example.com\n    secret_env: 9LIVES\n    events: ['*']\n",
     "line 6: secret_env '9LIVES' must name an environment variable"),
    ("webhooks:\n  - url: https://x.example.com\n    secret_env: S\n    events: ['*']\n    timeout: 600\n",
     "line 8: the timeout of a webhook must be a number of seconds from 1 to 60"),
    ("webhooks:\n  - secret_env: S\n    events: ['*']\n", "line 5: webhook without 'url'"),
    ("webhooks:\n  - https://x.example.com\n", "line 5: each webhook must be a mapping"),
])
def test_each_kind_of_bad_entry_is_named(entry, message):
    _org, problems = parse_org(HEAD + entry)
    assert len(problems) == 1 and str(problems[0]).startswith(message), problems


def test_good_entries_read_patterns_names_and_literal_secrets():
    org, problems = parse_org(HEAD + "webhooks:\n  - url: https://x.example.com/h\n    secret: s3\n"
                                     "    events: [task.*, '*', request.approved]\n    timeout: 2.5\n")
    assert problems == []
    [hook] = org.webhooks
    assert (hook.key, hook.secret, hook.events, hook.timeout) == (
        "https://x.example.com/h", "s3", ("task.*", "*", "request.approved"), 2.5)


def test_teamflow_org_check_names_the_file_and_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEAMFLOW_ORG_FILE", raising=False)
    (tmp_path / "org.yaml").write_text(BAD_HOOKS, encoding="utf-8")
    assert main(["org", "check", "org.yaml"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "org.yaml:line 7: unknown webhook event 'task.doen' (did you mean 'task.done'?)"
    assert lines[-1] == "5 problem(s) in org.yaml"


def test_event_names_and_patterns():
    assert webhooks.event_name("closed") == "task.done" and webhooks.event_name("request_done") == "request.approved"
    assert webhooks.event_name("something_new") == "task.something_new"
    assert webhooks.matches(["task.*"], "task.done") and not webhooks.matches(["task.*"], "request.approved")
    assert webhooks.matches(["*"], "request.approved") and not webhooks.matches(["task.done"], "task.done_ish")
    assert timedelta(0) < webhooks.GAP_WAIT <= timedelta(minutes=5)


async def test_teamflow_webhooks_shows_progress_failures_and_what_was_given_up(team, receiver):
    with team.app.store.session() as session:
        assert webhook_admin.report(session)[0].startswith("crm  ") and webhook_admin.report(session)[0].endswith("ok")
    receiver.script = [422, 422, 422, 503]
    team.say("olga", "/task Order resin")
    team.say("olga", "/done 1")
    await team.send()
    await team.send(seconds=10)
    await team.send(seconds=20)  # task.created given up; task.done answered 503
    with team.app.store.session() as session:
        lines = webhook_admin.report(session)
    assert "failing since" in lines[0] and "HTTP 503" in lines[0] and "next try" in lines[0]
    assert lines[1] == "given up (newest first):"
    assert "event" in lines[2] and "task.created" in lines[2] and "after 3 tries: " in lines[2] and "HTTP 422" in lines[2]
    [failure] = team.failures()
    receiver.script = [500]
    taken, said = await webhook_admin.replay(team.app.store, failure.id)
    assert not taken and "not taken by crm: HTTP 500" in said and team.failures() == [failure]
    taken, said = await webhook_admin.replay(team.app.store, failure.id)  # the receiver is fixed
    assert taken and said.startswith(f"event {failure.event_id} task.created taken by crm")
    assert team.failures() == [] and receiver.seen[-1]["event"] == "task.created"
    assert (await webhook_admin.replay(team.app.store, failure.id))[1].startswith(f"no given-up event #{failure.id}")
