"""The inbox: a recorded update is handled once, a redelivery not at all, a dead worker's by another.

The rules run on the store directly; the flows through Slack's real bolt app with signed
requests (Telegram's, by long polling and webhook, are killed for real in test_inbox_crash.py).
"""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.request.internals import parse_body
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from adapters.slack.durable import SlackReplays, key_of
from adapters.telegram.durable import DurableUpdates
from bot.durability import InboxKeeper
from bot.runtime import WEBHOOK_PATH, register_webhook
from core.domain.models import InboxEntry, Task
from core.infra import inbox
from core.infra.inbox import MAX_ATTEMPTS, Inbox
from tests.fakes import slack_api as fake_slack
from tests.fakes import telegram_api as tg
from tests.slack_harness import GENERAL, SlackHarness
from tests.telegram_harness import USERS as TG_USERS
from tests.telegram_harness import TelegramHarness


def entries(store) -> list[InboxEntry]:
    with store.session() as session:
        return list(session.exec(select(InboxEntry).order_by(InboxEntry.id)))


def tasks(store) -> list[str]:
    with store.session() as session:
        return list(session.exec(select(Task.title).order_by(Task.id)))


def answers(slack, words: str) -> int:
    """Answers that show `words`: posted where the command was typed, or on its response_url."""
    return sum(words in json.dumps(m) for m in slack.fake.sent(GENERAL) + slack.responses())


# ----- the rules ---------------------------------------------------------------------

def test_a_key_is_recorded_once_and_a_batch_says_which_are_new(sqlite_store, clock):
    box = Inbox(sqlite_store, clock)
    first = box.record("telegram", "telegram:1", "{}")
    assert first is not None and box.record("telegram", "telegram:1", "{}") is None
    ids = box.record_many("telegram", [("telegram:1", "{}"), ("telegram:2", "{}"), ("telegram:3", "{}")])
    assert ids[0] is None and None not in ids[1:] and len(set(ids[1:])) == 2
    assert box.pending() == 3


def test_a_live_workers_claim_is_kept_by_its_heartbeat_and_a_dead_ones_lapses(sqlite_store, clock):
    alive, dead, other = (Inbox(sqlite_store, clock, lease=timedelta(seconds=15)) for _ in range(3))
    held = alive.record("telegram", "telegram:1", "{}")
    lost = dead.record("telegram", "telegram:2", "{}")
    clock.advance(seconds=10)
    alive.heartbeat()
    assert other.claim_stale(["telegram"]) == []  # neither has lapsed yet
    clock.advance(seconds=10)
    alive.heartbeat()
    taken = other.claim_stale(["telegram"])
    assert [s.id for s in taken] == [lost] and taken[0].attempts == 1
    assert other.claim_stale(["telegram"]) == []  # taken once, now held by `other`
    assert held not in [s.id for s in taken]


def test_only_the_platforms_a_worker_runs_are_taken(sqlite_store, clock):
    dead, other = Inbox(sqlite_store, clock), Inbox(sqlite_store, clock)
    dead.record("slack", "slack:event:Ev1", "{}")
    clock.advance(minutes=1)
    assert other.claim_stale(["telegram"]) == []
    assert len(other.claim_stale(["slack"])) == 1


def test_handled_in_the_commands_transaction_and_not_again(sqlite_store, clock):
    box = Inbox(sqlite_store, clock)
    entry = box.record("telegram", "telegram:1", "{}")
    with inbox.handling(entry) as mark:
        with sqlite_store.session() as session:
            assert inbox.mark_in(session, clock()) is mark
        mark.handled = True
        with sqlite_store.session() as session:
            assert inbox.mark_in(session, clock()) is None  # marked once
    assert entries(sqlite_store)[0].handled_at is not None
    clock.advance(minutes=5)
    assert Inbox(sqlite_store, clock).claim_stale(["telegram"]) == []


def test_a_rolled_back_command_leaves_its_update_unhandled(sqlite_store, clock):
    box = Inbox(sqlite_store, clock)
    entry = box.record("telegram", "telegram:1", "{}")
    try:
        with inbox.handling(entry), sqlite_store.session() as session:
            inbox.mark_in(session, clock())
            raise RuntimeError("the command failed")
    except RuntimeError:
        pass
    assert entries(sqlite_store)[0].handled_at is None


def test_a_failing_update_is_tried_again_after_the_lease_then_given_up(sqlite_store, clock):
    box = Inbox(sqlite_store, clock, lease=timedelta(seconds=15))
    entry = box.record("telegram", "telegram:1", "{}")
    box.give_back(entry, "ValueError('boom')")
    box.heartbeat()  # no longer this worker's: the heartbeat does not keep it
    tries = 0
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(seconds=16)
        taken = box.claim_stale(["telegram"])
        if taken:
            tries += 1
            box.give_back(taken[0].id, "ValueError('boom')")
    row = entries(sqlite_store)[0]
    assert tries == MAX_ATTEMPTS - 1 and row.handled_at is not None and "given up" in row.error


def test_a_graceful_stop_hands_what_it_holds_to_the_others_at_once(sqlite_store, clock):
    stopping, other = Inbox(sqlite_store, clock), Inbox(sqlite_store, clock)
    stopping.record("telegram", "telegram:1", "{}")
    assert other.claim_stale(["telegram"]) == []
    assert stopping.release() == 1
    assert len(other.claim_stale(["telegram"])) == 1


def test_handled_rows_are_forgotten_after_some_days(sqlite_store, clock):
    box = Inbox(sqlite_store, clock)
    box.handled(box.record("telegram", "telegram:1", "{}"))
    box.record("telegram", "telegram:2", "{}")  # unhandled: kept
    clock.advance(days=4)
    assert box.prune() == 1 and [e.key for e in entries(sqlite_store)] == ["telegram:2"]


def test_slacks_keys_are_its_own_ids():
    assert key_of({"type": "event_callback", "event_id": "Ev1"}) == "slack:event:Ev1"
    assert key_of({"command": "/task", "trigger_id": "T.1"}) == "slack:trigger:T.1"
    assert key_of({"type": "view_closed"}) == key_of({"type": "view_closed"}) != key_of({"type": "x"})


# ----- through Slack ---------------------------------------------------------------------

async def test_a_slash_command_delivered_twice_makes_one_task(sqlite_store, clock):
    async with SlackHarness(sqlite_store, clock) as slack:
        fields = fake_slack.slash_command(slack.users["olga"][0], "olga", "/task", "Order trays", channel_id=GENERAL,
                                          response_url=slack.response_url(), trigger_id="13345.7766.aa")
        first = await slack.post_form(fields)
        again = await slack.post_form(fields, timestamp=None)  # signed anew, as any resend would be
        assert first.status == again.status == 200
        assert tasks(sqlite_store) == ["Order trays"]
        assert [(e.key, e.handled_at is not None) for e in entries(sqlite_store)] == [
            ("slack:trigger:13345.7766.aa", True)]
        assert answers(slack, "Order trays") == 1


async def test_an_event_answered_by_no_command_is_handled_too(sqlite_store, clock):
    async with SlackHarness(sqlite_store, clock) as slack:
        await slack.open_home("olga")  # App Home: a view published, no unit of work
        await slack.say("olga", "hello", channel=GENERAL)  # a channel message not for us
        assert [e.handled_at is not None for e in entries(sqlite_store)] == [True, True]


async def test_a_dead_workers_slash_command_is_handled_by_another_and_answered(sqlite_store, clock):
    """What a killed worker left: recorded, acknowledged to Slack, never handled. Another worker's
    keeper takes it once the lease passed, runs it through bolt and answers on its response_url."""
    async with SlackHarness(sqlite_store, clock) as slack:
        response_url = slack.response_url()
        fields = fake_slack.slash_command(slack.users["olga"][0], "olga", "/task", slack.escape_mentions("Call the lab @pavel"),
                                          channel_id=GENERAL, response_url=response_url, trigger_id="99.1.dead")
        body = parse_body(urlencode(fields), "application/x-www-form-urlencoded")
        dead = Inbox(sqlite_store, clock)
        dead.record("slack", key_of(body), json.dumps(body))
        replays = SlackReplays(slack.bolt)
        keeper = InboxKeeper(slack.app.inbox, {"slack": replays.replay})
        assert await keeper.tick() == 0  # the dead worker's claim has not lapsed yet
        clock.advance(seconds=20)
        assert await keeper.tick() == 1
        await replays.settle(5)
        await slack.settle()
        assert tasks(sqlite_store) == ["Call the lab"]
        assert entries(sqlite_store)[0].handled_at is not None
        assert answers(slack, "Call the lab") == 1
        clock.advance(seconds=20)
        assert await keeper.tick() == 0  # handled once
        await slack.post_form(fields)  # Slack itself never resends it; if it did, it is dropped
        assert tasks(sqlite_store) == ["Call the lab"]


# ----- through Telegram's webhook --------------------------------------------------------

def harness_update(harness, who: str, text: str) -> dict:
    user_id, username, lang = TG_USERS[who]
    return tg.private_message(next(harness._ids), user_id, text, username=username, language_code=lang)


class Webhook:
    """The product's `POST /telegram/webhook` (recording in the inbox) on a test server, posted to as
    Telegram posts: one Update as JSON with the secret token."""

    def __init__(self, harness) -> None:
        self.harness = harness

    async def __aenter__(self) -> "Webhook":
        server = web.Application()
        self.durable = DurableUpdates(self.harness.dp, self.harness.bot, self.harness.app.inbox)
        register_webhook(server, self.harness.dp, self.harness.bot, "s3cret", durable=self.durable)
        self.http = TestClient(TestServer(server, host="127.0.0.1"))
        await self.http.start_server()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.http.close()

    async def post(self, update: dict) -> int:
        async with self.http.post(WEBHOOK_PATH, json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as response:
            status = response.status
        await self.durable.settle(5)
        return status


async def test_a_webhook_update_sent_again_is_handled_once(sqlite_store, clock):
    async with TelegramHarness(sqlite_store, clock) as harness, Webhook(harness) as hook:
        update = harness_update(harness, "olga", "/task Polish the trays")
        assert await hook.post(update) == 200
        assert await hook.post(update) == 200  # Telegram thought the first 200 was lost
        assert tasks(sqlite_store) == ["Polish the trays"]
        assert sum("Polish the trays" in m.get("text", "") for m in harness.sent_to("olga")) == 1
        assert [e.handled_at is not None for e in entries(sqlite_store)] == [True]


async def test_an_update_the_store_refuses_gets_a_503_and_its_sender_is_told_once(sqlite_store, clock, monkeypatch):
    async with TelegramHarness(sqlite_store, clock) as harness, Webhook(harness) as hook:
        def refused(*_args, **_kwargs):
            raise OperationalError("INSERT INTO inbox", {}, Exception("attempt to write a readonly database"))

        update = harness_update(harness, "olga", "/task Polish the trays")
        with monkeypatch.context() as patch:
            patch.setattr(harness.app.inbox, "record_many", refused)
            assert await hook.post(update) == 503
            assert await hook.post(update) == 503  # Telegram tries again while the store still refuses
        told = [m["text"] for m in harness.sent_to("olga")]
        assert len(told) == 1 and "couldn't save" in told[0] and tasks(sqlite_store) == []
        assert await hook.post(update) == 200  # the store takes writes again: handled now
        assert tasks(sqlite_store) == ["Polish the trays"]


async def test_a_slack_request_the_store_refuses_is_not_handled_and_its_sender_is_told(sqlite_store, clock,
                                                                                        monkeypatch):
    async with SlackHarness(sqlite_store, clock) as slack:
        def refused(*_args, **_kwargs):
            raise OperationalError("INSERT INTO inbox", {}, Exception("database or disk is full"))

        monkeypatch.setattr(slack.app.inbox, "record_many", refused)
        answer = await slack.command("pavel", "/task Polish the trays")
        event = await slack.say("olga", "a comment", channel=GENERAL)
        assert answer.status == 200 and "не удалось сохранить" in answer.json()["text"]  # Pavel reads Russian
        assert event.status == 503  # Slack sends an event again later
        assert tasks(sqlite_store) == [] and entries(sqlite_store) == []
