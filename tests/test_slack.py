"""Slack, as people live it: signed requests as Slack sends them, through the real bolt app on a
loopback server, against a fake Slack Web API that the real AsyncWebClient talks to."""
from __future__ import annotations

import json
import time

import pytest

from tests.fakes import slack_api as fake_slack
from tests.slack_harness import GENERAL, USERS, SlackHarness

DENIED = "only work for the members of this team"


@pytest.fixture
async def slack(sqlite_store, clock):
    async with SlackHarness(sqlite_store, clock) as harness:
        yield harness


async def a_card(slack, who: str = "olga", line: str = "/task Prepare the 3D model @pavel by tomorrow 15:00") -> dict:
    """Post a task card in #general by slash command; return the card as Slack holds it."""
    reply = await slack.command(who, line)
    assert reply.status == 200 and reply.text == ""  # acknowledged at once, with nothing to show
    return slack.last(GENERAL)


async def test_a_task_made_by_slash_command_is_closed_from_its_card(slack):
    card = await a_card(slack)
    assert "Task #1 created." in slack.text(card) and "Assignee: Pavel Smirnov" in slack.text(card)
    assert {"Done", "Comment", "Snooze 1 h", "Other time…"} <= set(slack.buttons(card))
    await slack.deliver()
    notice = slack.last(slack.dm("pavel"))  # Pavel hears of it in his DM, in Russian (the org's language)
    assert "Prepare the 3D model" in slack.text(notice) and "1 дек., 15:00" in slack.text(notice)
    await slack.tap("pavel", notice, "Готово")
    assert "Статус: готово" in slack.text(slack.fake.message(notice["channel"], notice["ts"]))  # redrawn in place
    await slack.deliver()
    in_general = slack.fake.message(GENERAL, card["ts"])
    assert "Status: done" in slack.text(in_general)  # every copy is updated with chat.update
    assert "Reopen" in slack.buttons(in_general) and "Done" not in slack.buttons(in_general)
    assert "closed it" in slack.text(slack.last(slack.dm("olga")))  # the creator hears of it


async def test_a_reply_in_a_cards_thread_is_a_comment_and_a_file_is_an_attachment(slack):
    card = await a_card(slack)
    await slack.say("olga", "The clinic sent new ones, see <https://lab.example.com/scans|the scans>",
                    channel=GENERAL, thread_ts=card["ts"])
    confirmation = slack.ephemerals("olga")[-1]
    assert confirmation["text"] == "Comment added to #1." and confirmation["thread_ts"] == card["ts"]
    scan = {"id": "F0SCAN0017", "name": "scan-17.stl", "mimetype": "model/stl", "size": 48213}
    await slack.say("olga", "the lower jaw", channel=GENERAL, thread_ts=card["ts"], files=[scan])
    await slack.command("olga", "/show 1")
    shown = slack.text(slack.last(GENERAL))
    assert "https://lab.example.com/scans" in shown and "attached a file: scan-17.stl" in shown
    assert "the lower jaw" in shown
    await slack.deliver()
    assert "The clinic sent new ones" in "".join(slack.text(m) for m in slack.fake.sent(slack.dm("pavel")))
    assert "Comments: 2 · Files: 1" in slack.text(slack.fake.message(GENERAL, card["ts"]))


async def test_chatter_edits_and_other_bots_are_not_for_us(slack):
    card = await a_card(slack)
    await slack.say("olga", "lunch?", channel=GENERAL)
    await slack.say("olga", "sure", channel=GENERAL, thread_ts="1699999999.000001")  # a thread, not a card's
    edited = {"type": "message", "subtype": "message_changed", "channel": GENERAL, "ts": "1800000009.000300",
              "hidden": True, "message": {"type": "message", "user": USERS["olga"][0], "text": "edited",
                                          "ts": "1800000008.000300", "thread_ts": card["ts"]}}
    assert (await slack.post_event(edited)).status == 200
    other_bot = fake_slack.message_event("U0OTHERBOT1", GENERAL, "beep", ts="1800000010.000300", thread_ts=card["ts"])
    assert (await slack.post_event({**other_bot, "bot_id": "B0OTHER"})).status == 200
    assert len(slack.fake.sent(GENERAL)) == 1 and slack.ephemerals("olga") == []
    assert "Comments: 0" in slack.text(slack.fake.message(GENERAL, card["ts"]))


async def test_the_comment_modal_refuses_an_empty_comment_then_saves_it(slack):
    card = await a_card(slack)
    await slack.tap("olga", card, "Comment")
    modal = slack.modal("olga")
    assert modal["title"]["text"] == "Comment" and "#1" in modal["blocks"][0]["label"]["text"]
    refused = await slack.submit("olga", modal, "   ")
    assert refused.status == 200 and refused.json()["response_action"] == "errors"
    assert "empty" in refused.json()["errors"]["tf-input"].lower()
    saved = await slack.submit("olga", modal, "Ask <@U01MARIA003|maria> for the budget")
    assert saved.status == 200 and saved.text == ""  # the modal closes
    assert "Comments: 1" in slack.text(slack.fake.message(GENERAL, card["ts"]))  # the card is redrawn
    await slack.command("olga", "/show 1")
    assert "Ask @maria for the budget" in slack.text(slack.last(GENERAL))


async def test_a_custom_snooze_time_that_cannot_be_read_is_a_field_error(slack):
    card = await a_card(slack)
    await slack.tap("olga", card, "Other time…")
    modal = slack.modal("olga")
    refused = await slack.submit("olga", modal, "whenever you like")
    assert "tomorrow 15:00" in refused.json()["errors"]["tf-input"]  # says what works
    saved = await slack.submit("olga", modal, "завтра в 10:00")
    assert saved.text == ""
    assert "snoozed until 1 Dec, 10:00" in slack.text(slack.fake.message(GENERAL, card["ts"]))


async def test_app_home_shows_what_waits_for_me_and_its_buttons_work(slack):
    await a_card(slack)
    await slack.command("olga", "/task Order trays @olga")  # Olga's own: not Pavel's business
    await slack.open_home("pavel")
    shown = slack.text(slack.home("pavel"))
    assert "Что вас ждёт" in shown and "Доска" in shown  # Pavel reads Russian
    assert "#1 Prepare the 3D model" in shown and "Order trays" not in shown
    await slack.tap_home("pavel", "#1 Готово")
    assert "#1 Prepare the 3D model" not in slack.text(slack.home("pavel")).split("Доска")[0]  # republished
    assert "Сделано недавно (1)" in slack.text(slack.home("pavel"))
    await slack.open_home("olga")
    assert "Order trays" in slack.text(slack.home("olga")) and "What waits for you" in slack.text(slack.home("olga"))
    await slack.tap_home("olga", "#2 Done", value="t:done:1:")  # a stale value: #1 is closed already
    assert slack.text(slack.last(slack.dm("olga"))) == "Task #1 is already closed."  # a tab has no channel: a DM


async def test_a_forged_signature_and_a_stale_timestamp_are_refused(slack):
    fields = fake_slack.slash_command(USERS["olga"][0], "olga", "/task", "Sneaky", channel_id=GENERAL,
                                      response_url=slack.response_url(), trigger_id="t")
    assert (await slack.post_form(fields, secret="not-the-secret")).status == 401
    assert (await slack.post_form(fields, timestamp=int(time.time()) - 6 * 60)).status == 401
    assert slack.fake.sent(GENERAL) == []
    assert (await slack.post_form(fields)).status == 200
    assert "Sneaky" in slack.text(slack.last(GENERAL))


async def test_the_request_url_is_verified_with_the_challenge(slack):
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "unused", "challenge": challenge, "type": "url_verification"}).encode()
    reply = await slack.post(body, "application/json")
    assert reply.status == 200 and reply.json() == {"challenge": challenge}


async def test_a_retried_event_is_handled_once(slack):
    card = await a_card(slack)
    event = fake_slack.message_event(USERS["olga"][0], GENERAL, "Only once", ts="1800000001.000300",
                                     thread_ts=card["ts"])
    assert (await slack.post_event(event, event_id="Ev0RETRY01")).status == 200
    retried = await slack.post_event(event, event_id="Ev0RETRY01",
                                     headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retried.status == 200
    assert [e["text"] for e in slack.ephemerals("olga")] == ["Comment added to #1."]
    await slack.deliver()
    assert "Comments: 1" in slack.text(slack.fake.message(GENERAL, card["ts"]))


async def test_a_strangers_tap_is_refused_with_an_ephemeral_message(slack):
    card = await a_card(slack)
    await slack.tap("stranger", card, "Done")
    refusal = slack.ephemerals("stranger")[-1]
    assert DENIED in refusal["text"] and refusal["channel"] == GENERAL
    assert "Status: open" in slack.text(slack.fake.message(GENERAL, card["ts"]))
    reply = await slack.command("stranger", "/tasks all")  # a command: refused right in the acknowledgement
    assert reply.json()["response_type"] == "ephemeral" and DENIED in reply.json()["text"]
    await slack.open_home("stranger")
    assert DENIED in slack.text(slack.home("stranger")) and "Prepare" not in slack.text(slack.home("stranger"))
    await slack.say("stranger", "hello?", channel=slack.dm("stranger"), channel_type="im")
    assert DENIED in slack.text(slack.last(slack.dm("stranger")))
    await slack.say("stranger", "just chatting", channel=GENERAL)  # channel chatter from a stranger: silence
    assert len(slack.fake.sent(GENERAL)) == 1


async def test_a_tap_by_someone_who_may_not_changes_nothing_and_says_why(slack):
    card = await a_card(slack, line="/task Budget review @ivan")
    await slack.tap("maria", card, "Done")  # Maria sees the card in #general, but it is not hers to close
    refusal = slack.ephemerals("maria")[-1]
    assert "#1" in refusal["text"] and refusal["channel"] == GENERAL
    assert "Status: open" in slack.text(slack.fake.message(GENERAL, card["ts"]))


@pytest.mark.parametrize("value, why", [
    ("t:done:999:", "doesn't exist or isn't shared with you"),  # a task that is not there
    ("t:explode:1:", "no longer valid"),  # an action we never made
    ("done:1:", "no longer valid"),  # a value of an older build
    ("garbage-from-an-old-app", "no longer valid"),
    ("t:done:notanumber:", "no longer valid"),
    ("s:ap:1:", "no longer valid"),  # an approval with no step named
])
async def test_forged_or_stale_button_values_change_nothing_and_say_why(slack, value, why):
    card = await a_card(slack, line="/task Keep me open")
    await slack.tap("olga", card, "Done", value=value)
    assert why in slack.ephemerals("olga")[-1]["text"]
    assert "Status: open" in slack.text(slack.fake.message(GENERAL, card["ts"]))


async def test_a_429_from_the_web_api_is_retried_after_retry_after(slack, clock):
    await a_card(slack)
    slack.fake.fail_next("chat.postMessage", retry_after=0)  # short: the client waits and retries in place
    before = len(slack.fake.calls_of("chat.postMessage"))
    await slack.deliver()
    assert "Prepare the 3D model" in slack.text(slack.last(slack.dm("pavel")))
    assert len(slack.fake.calls_of("chat.postMessage")) == before + 2  # the 429, then the retry


async def test_a_long_retry_after_goes_back_to_the_outbox_and_nothing_is_lost(slack, clock):
    await a_card(slack)
    for _ in range(3):
        slack.fake.fail_next("chat.postMessage", retry_after=30)
    await slack.deliver()
    assert slack.fake.sent(slack.dm("pavel")) == []
    clock.advance(seconds=31)
    await slack.deliver()
    assert slack.fake.sent(slack.dm("pavel")) == []  # the second 429
    clock.advance(seconds=31)
    await slack.deliver()
    assert slack.fake.sent(slack.dm("pavel")) == []  # the third
    clock.advance(seconds=31)
    await slack.deliver()
    assert "Prepare the 3D model" in slack.text(slack.last(slack.dm("pavel")))


async def test_lists_are_shown_to_their_reader_alone_in_a_channel_and_posted_in_a_dm(slack):
    await a_card(slack)
    await slack.command("olga", "/tasks created")
    assert len(slack.fake.sent(GENERAL)) == 1  # only the card
    listed = slack.responses()[-1]
    assert listed["response_type"] == "ephemeral" and "#1 Prepare the 3D model" in str(listed["blocks"])
    await slack.command("olga", "/tasks created", channel=slack.dm("olga"))
    assert "#1 Prepare the 3D model" in slack.text(slack.last(slack.dm("olga")))


async def test_where_the_bot_may_not_post_the_card_is_shown_to_its_author_alone(slack):
    slack.fake.closed_channels.add("C0PRIVATE01")
    await slack.command("olga", "/task Quiet one", channel="C0PRIVATE01")
    shown = slack.responses()[-1]
    assert shown["response_type"] == "ephemeral" and "Task #1 created." in str(shown["blocks"])
    await slack.command("olga", "/tasks created")
    assert "Quiet one" in str(slack.responses()[-1]["blocks"])  # the task was made all the same


async def test_text_in_the_dm_is_read_like_a_command(slack):
    await a_card(slack)
    await slack.say("olga", "what about #1?", channel=slack.dm("olga"), channel_type="im")
    assert "#1 Prepare the 3D model" in slack.text(slack.last(slack.dm("olga")))


async def test_language_follows_the_slack_locale_when_nobody_chose(slack):
    await slack.command("olga", "/frobnicate")  # chose English in the org file
    assert slack.responses()[-1]["text"].startswith("I don't know /frobnicate")
    await slack.command("ivan", "/frobnicate")  # chose nothing; Slack says en-GB
    assert slack.responses()[-1]["text"].startswith("I don't know /frobnicate")
    await slack.command("anna", "/frobnicate")  # chose nothing, Slack says nothing: the org's Russian
    assert slack.responses()[-1]["text"].startswith("Не знаю команды /frobnicate")
    await slack.command("ivan", "/settings lang ru")  # his own choice beats Slack's
    await slack.command("ivan", "/frobnicate")
    assert slack.responses()[-1]["text"].startswith("Не знаю команды /frobnicate")


async def test_user_text_is_escaped_for_mrkdwn(slack):
    card = await a_card(slack, line="/task Fix <b>bold</b> & <!channel> tags, not @here")
    assert "Fix &lt;b&gt;bold&lt;/b&gt; &amp; &lt;!channel&gt; tags, not here" in slack.text(card)


async def test_a_long_card_is_split_within_slacks_limits(slack):
    card = await a_card(slack, line="/task Long one\n" + "Line of the description, quite long. & <more>\n" * 200)
    sections = [b for b in card["blocks"] if b["type"] == "section"]
    assert len(sections) > 1 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert len(card["blocks"]) <= 50 and "Done" in slack.buttons(card)


async def test_profiles_are_asked_once_per_member(slack):
    await a_card(slack)
    await slack.command("olga", "/tasks")
    await slack.command("olga", "/board")
    assert [c.params["user"] for c in slack.fake.calls_of("users.info")] == [USERS["olga"][0]]


async def test_a_member_named_by_e_mail_only_is_found_and_keeps_their_member_id(sqlite_store, clock, tmp_path):
    from sqlmodel import select

    from bot.app import DEMO_ORG
    from core.domain.models import Person

    org = tmp_path / "org.yaml"
    org.write_text(DEMO_ORG.read_text().replace("slack: U01PAVEL004", ""))
    users = {**USERS, "pavel": ("U0NEWPAVEL1", "Pavel@Example.com", "ru-RU")}
    async with SlackHarness(sqlite_store, clock, org_file=org, users=users) as slack:
        await slack.command("pavel", "/tasks")
        assert DENIED not in slack.responses()[-1]["text"] and "/task" in slack.responses()[-1]["text"]
        with slack.app.store.session() as session:
            pavel = session.exec(select(Person).where(Person.handle == "pavel")).one()
        assert pavel.slack_id == "U0NEWPAVEL1" and pavel.platform_language == "ru"


async def test_an_announcement_goes_to_the_slack_channel_and_its_counts_update_live(slack):
    await slack.command("olga", "/announce Pizza in the kitchen at 13:00, who's in?")
    assert "posted to 1 channel(s)" in slack.responses()[-1]["text"]  # a short answer: for Olga alone
    await slack.deliver()
    post = slack.last("C0123ABCD")  # the org file's Slack announcement channel
    assert "Pizza in the kitchen" in slack.text(post)
    await slack.tap("pavel", post, "Я иду")  # the channel reads the org's language
    assert "#1" in slack.ephemerals("pavel")[-1]["text"]
    await slack.deliver()
    assert "Я иду (1): Pavel Smirnov" in slack.text(slack.fake.message("C0123ABCD", post["ts"]))


async def test_one_core_two_adapters_olga_on_telegram_pavel_on_slack(sqlite_store, clock, tmp_path):
    """Olga uses Telegram only, Pavel Slack only: the task and its closing flow between them."""
    from bot.app import DEMO_ORG
    from tests.telegram_harness import TelegramHarness

    org = tmp_path / "org.yaml"
    org.write_text(DEMO_ORG.read_text().replace("slack: U01OLGA0002", "").replace("telegram: pavel_smirnov", ""))
    async with SlackHarness(sqlite_store, clock, org_file=org) as slack, \
            TelegramHarness(sqlite_store, clock, app=slack.app) as telegram:
        await telegram.private("olga", "/task Prepare the 3D model @pavel")
        on_telegram = telegram.last("olga")
        await slack.deliver()
        notice = slack.last(slack.dm("pavel"))
        assert "Prepare the 3D model" in slack.text(notice)
        await slack.tap("pavel", notice, "Готово")
        await slack.deliver()
        assert "Status: done" in telegram.fake.message(1001, on_telegram["message_id"])["text"]  # her card, redrawn
        assert "closed it" in telegram.last("olga")["text"]


async def test_a_burst_of_notices_to_one_channel_is_paced_and_none_is_lost(sqlite_store, clock):
    """Time-scaled 50×: Slack's one message a second per channel becomes one per 20 ms."""
    from sqlmodel import select

    from core.domain.models import Outbox, Person
    from core.infra.outbox import enqueue

    async with SlackHarness(sqlite_store, clock, scale=50) as slack:
        await a_card(slack, line="/task Burst target @pavel")
        with slack.app.store.session() as session:
            pavel = session.exec(select(Person).where(Person.handle == "pavel")).one()
            for n in range(60):
                enqueue(session, key=f"burst:{n}", recipient_id=pavel.id, template="reminder", task_id=1,
                        now=clock(), context={"kind": "overdue", "late": False})
        await slack.deliver()
        to_pavel = [c.at for c in slack.fake.calls_of("chat.postMessage") if c.params["channel"] == slack.dm("pavel")]
        assert len(to_pavel) == 61  # the task's notice and the 60 reminders, each once
        # Any ten in a row span at least ten periods (arrival jitter aside): never a burst.
        assert min(b - a for a, b in zip(to_pavel, to_pavel[10:])) >= 0.9 * 10 / 50
        with slack.app.store.session() as session:
            rows = session.exec(select(Outbox).where(Outbox.key.startswith("burst:"))).all()
        assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


async def test_repeating_tasks_are_listed_and_stopped_by_slash_command(slack):
    await slack.command("olga", "/task Weekly report every monday 10:00")
    assert "it repeats" in slack.text(slack.last(GENERAL))
    await slack.command("olga", "/recurring")
    listed = json.dumps(slack.responses()[-1])
    assert "Weekly report" in listed and slack.responses()[-1]["response_type"] == "ephemeral"
    await slack.command("olga", "/recurring stop 1")
    assert "Repetition #1 stopped." in json.dumps(slack.responses()[-1])
    await slack.command("olga", "/recurring")
    assert "No repeating tasks." in json.dumps(slack.responses()[-1])
