"""Telegram, as people live it: real update JSON through the real dispatcher, a fake Bot API."""
from __future__ import annotations

import pytest

from adapters.telegram.callbacks import TaskTap
from tests.telegram_harness import GROUP, USERS, TelegramHarness


@pytest.fixture
async def tg(sqlite_store, clock):
    async with TelegramHarness(sqlite_store, clock) as harness:
        yield harness


@pytest.fixture
async def met(tg):
    """Everyone in the demo org has opened the bot once (so the bot knows their chat)."""
    for who in ("olga", "pavel", "ivan", "maria", "anna"):
        await tg.private(who, "/help")
    tg.fake.calls.clear()
    return tg


async def test_a_task_made_in_the_group_is_closed_by_the_assignee_in_private(tg):
    await tg.group("olga", "/task@teamflow_bot Prepare the 3D model @pavel by завтра в 15:00")
    card = tg.last(GROUP)
    assert "Task #1 created." in card["text"] and "Prepare the 3D model" in card["text"]
    assert "Done" in tg.buttons(card)
    await tg.deliver()
    assert tg.sent_to("pavel") == []  # Pavel never opened the bot: the notice waits for him
    await tg.private("pavel", "/start")
    await tg.deliver()
    notice = tg.last("pavel")
    assert "Prepare the 3D model" in notice["text"] and "1 дек., 15:00" in notice["text"]  # Pavel reads Russian
    await tg.tap("pavel", notice, tg.buttons(notice)["Готово"])
    assert tg.answers()[-1]["text"].startswith("Задача #1 выполнена")  # the toast, in Pavel's Russian
    assert "готово" in tg.last("pavel")["text"]  # the tapped card is redrawn: status done
    await tg.deliver()
    group_card = tg.fake.message(GROUP, card["message_id"])
    assert "Status: done" in group_card["text"]  # every copy is updated in place
    assert "Reopen" in tg.buttons(group_card) and "Done" not in tg.buttons(group_card)
    assert "closed it" in tg.last("olga")["text"]  # the creator hears of it


async def test_a_reply_to_a_card_is_a_comment_and_a_file_is_an_attachment(met):
    tg = met
    await tg.private("olga", "/task Check the scans @pavel")
    card = tg.last("olga")
    await tg.private("olga", "The clinic sent new ones", reply_to=card)
    assert "Comment added to #1." in tg.last("olga")["text"]
    from tests.fakes import telegram_api as fake

    update = fake.document_message(900, USERS["olga"][0], file_name="scan-17.stl", mime_type="model/stl",
                                   username=USERS["olga"][1], caption="the lower jaw")
    update["message"]["reply_to_message"] = card
    await tg.feed(update)
    await tg.private("olga", "/show 1")
    shown = tg.last("olga")["text"]
    assert "The clinic sent new ones" in shown and "attached a file: scan-17.stl" in shown and "the lower jaw" in shown
    await tg.deliver()
    assert "The clinic sent new ones" in "".join(m["text"] for m in tg.sent_to("pavel"))


async def test_snooze_with_a_button_and_with_a_custom_time(tg):
    await tg.private("olga", "/task Call the lab by tomorrow 18:00")
    card = tg.last("olga")
    await tg.tap("olga", card, tg.buttons(card)["Snooze 1 h"])
    assert "snoozed until" in tg.last("olga")["text"]
    await tg.tap("olga", card, tg.buttons(card)["Other time…"])
    prompt = tg.last("olga")
    assert "Until when should I snooze #1?" in prompt["text"]
    assert tg.fake.calls_of("sendMessage")[-1].params["reply_markup"]["force_reply"] is True
    await tg.private("olga", "завтра в 10:00", reply_to=prompt)
    assert "snoozed until 1 Dec, 10:00" in tg.last("olga")["text"]


async def test_comment_button_asks_with_force_reply(tg):
    await tg.private("olga", "/task Order trays")
    await tg.tap("olga", tg.last("olga"), TaskTap(verb="comment", id=1).pack())
    prompt = tg.last("olga")
    await tg.private("olga", "Ask Maria for the budget", reply_to=prompt)
    assert "Comment added to #1." in tg.last("olga")["text"] and "Comments: 1" in tg.last("olga")["text"]


@pytest.mark.parametrize("data, why", [
    ("t:done:999:", "doesn't exist or isn't shared with you"),  # a task id that is not there
    ("t:explode:1:", "no longer valid"),  # an action we never made
    ("garbage-from-an-old-bot", "no longer valid"),
    ("t:done:notanumber:", "no longer valid"),
])
async def test_forged_or_stale_button_data_changes_nothing_and_says_why(tg, data, why):
    await tg.private("olga", "/task Keep me open")
    await tg.tap("olga", tg.last("olga"), data)
    assert why in tg.answers()[-1]["text"]
    await tg.private("olga", "/tasks created")
    assert "#1 Keep me open" in tg.last("olga")["text"]


async def test_someone_elses_task_cannot_be_closed_by_a_tap(tg):
    await tg.private("olga", "/task Budget review @ivan")
    card = tg.last("olga")
    await tg.tap("maria", card, tg.buttons(card)["Done"])  # Maria got hold of the button somehow
    answer = tg.answers()[-1]
    assert "#1" in answer["text"] and answer.get("show_alert") is True
    await tg.private("ivan", "/tasks")
    assert "Budget review" in tg.last("ivan")["text"]


async def test_strangers_get_one_polite_answer_and_see_nothing(tg):
    await tg.private("olga", "/task Secret plan")
    await tg.private("stranger", "/tasks all")
    answer = tg.last("stranger")["text"]
    assert "only work for the members of this team" in answer and "Secret plan" not in answer
    await tg.tap("stranger", tg.last("olga"), tg.buttons(tg.last("olga"))["Done"])
    assert "only work for the members" in tg.answers()[-1]["text"]
    await tg.group("stranger", "just chatting")  # group chatter from a stranger: silence
    assert len(tg.sent_to(GROUP)) == 0


async def test_an_invite_link_lets_a_newcomer_in(tg):
    await tg.private("olga", "/invite")
    text = tg.last("olga")["text"]
    link = next(word for word in text.split() if word.startswith("https://t.me/teamflow_bot?start="))
    code = link.rsplit("=", 1)[1]
    await tg.private("stranger", f"/start {code}")
    assert "Here is what I can do" in tg.last("stranger")["text"]
    await tg.private("stranger", "/task My first task")
    assert "Task #1 created." in tg.last("stranger")["text"]
    await tg.private("maria", f"/start {code}")  # a member: just the help
    await tg.feed(__import__("tests.fakes.telegram_api", fromlist=["x"]).private_message(
        990, 7777, f"/start {code}", username="late_guy"))
    assert "unknown, used or expired" in tg.last(7777)["text"]
    await tg.private("pavel", "/invite")
    assert tg.last("pavel")["text"] == "Приглашать людей может только администратор."


async def test_the_same_update_delivered_twice_is_processed_once(tg):
    from tests.fakes import telegram_api as fake

    update = fake.private_message(5000, USERS["olga"][0], "/task Only once", username=USERS["olga"][1])
    await tg.feed(update)
    await tg.feed(update)
    await tg.private("olga", "/tasks created")
    assert tg.last("olga")["text"].count("Only once") == 1
    assert len([m for m in tg.sent_to("olga") if "created." in m["text"]]) == 1


async def test_a_429_is_retried_after_retry_after_and_nothing_is_lost(met, clock):
    tg = met
    await tg.private("olga", "/task Ping Pavel @pavel")
    before = len(tg.sent_to("pavel"))
    tg.fake.fail_next("sendMessage", retry_after=7)
    assert await tg.deliver() == 1
    assert len(tg.sent_to("pavel")) == before
    clock.advance(seconds=8)
    await tg.deliver()
    assert len(tg.sent_to("pavel")) == before + 1 and "Ping Pavel" in tg.last("pavel")["text"]


async def test_a_user_who_blocked_the_bot_is_recorded_not_retried(met, clock):
    tg = met
    tg.fake.blocked_chats.add(USERS["pavel"][0])
    await tg.private("olga", "/task Ping Pavel @pavel")
    await tg.deliver()
    clock.advance(hours=1)
    await tg.deliver()
    from sqlmodel import select

    from core.domain.models import Outbox

    with tg.app.store.session() as session:
        row = session.exec(select(Outbox).where(Outbox.template == "task_event")).one()
    assert row.status == "failed" and "blocked" in row.error
    to_pavel = [c for c in tg.fake.calls_of("sendMessage") if c.params["chat_id"] == USERS["pavel"][0]]
    assert len(to_pavel) == 1  # one try, never retried
    assert "could not deliver a message to Pavel Smirnov" in tg.last("olga")["text"]  # the admin is told


async def test_forum_topics_are_answered_in_their_topic(tg):
    await tg.group("olga", "/task Topic task", thread_id=77)
    card = tg.last(GROUP)
    assert card.get("message_thread_id") == 77


async def test_a_group_that_became_a_supergroup_keeps_its_cards(tg):
    from tests.fakes import telegram_api as fake

    old = -4001
    await tg.group("olga", "/task In the old group", chat_id=old)
    card = tg.last(old)
    await tg.feed(fake.migrate_message(7001, old, GROUP, user_id=USERS["olga"][0]))
    assert tg.app.chat.task_of_message("telegram", GROUP, card["message_id"]) == 1
    assert tg.app.chat.task_of_message("telegram", old, card["message_id"]) is None


async def test_long_texts_are_trimmed_with_a_pointer_to_the_card(tg):
    await tg.private("olga", "/task Long one\n" + "Line of the description.\n" * 300)
    card = tg.last("olga")
    assert len(card["text"]) <= 4096 and card["text"].rstrip().endswith("/show 1")


async def test_language_follows_the_telegram_client_when_nobody_chose(tg):
    await tg.private("olga", "/frobnicate")  # chose English in the org file
    assert tg.last("olga")["text"].startswith("I don't know /frobnicate")
    await tg.private("ivan", "/frobnicate")  # chose nothing; his Telegram app is in English
    assert tg.last("ivan")["text"].startswith("I don't know /frobnicate")
    await tg.private("anna", "/frobnicate")  # chose nothing, her app says nothing: the org's Russian
    assert tg.last("anna")["text"].startswith("Не знаю команды /frobnicate")
    await tg.private("ivan", "/settings lang ru")  # his own choice beats the app's
    await tg.private("ivan", "/frobnicate")
    assert tg.last("ivan")["text"].startswith("Не знаю команды /frobnicate")


async def test_commands_are_published_in_both_languages(tg):
    from adapters.telegram.wiring import publish_commands

    await publish_commands(tg.bot)
    calls = tg.fake.calls_of("setMyCommands")
    languages = {call.params.get("language_code") for call in calls}
    assert languages == {None, "ru"}
    ru = next(call for call in calls if call.params.get("language_code") == "ru")
    assert any(c["command"] == "task" and "задача" in c["description"] for c in ru.params["commands"])


async def test_html_in_user_text_is_escaped(tg):
    await tg.private("olga", "/task Fix <b>bold</b> & <script> tags")
    assert "Fix <b>bold</b> & <script> tags" in tg.last("olga")["text"]  # shown as typed, parsed fine


async def test_a_burst_of_200_notices_to_one_chat_is_paced_and_none_is_lost(sqlite_store, clock):
    """Time-scaled 50×: Telegram's 1 message/s per chat becomes 50/s, enforced by the fake."""
    from sqlmodel import select

    from core.domain.models import Outbox, Person
    from core.infra.outbox import enqueue

    async with TelegramHarness(sqlite_store, clock, scale=50) as tg:
        await tg.private("pavel", "/task Burst target")
        before = len(tg.sent_to("pavel"))
        tg.fake.enforce_limits(per_chat_per_second=51)  # 1/s × 50, plus the one-message burst
        with tg.app.store.session() as session:
            pavel = session.exec(select(Person).where(Person.handle == "pavel")).one()
            for n in range(200):
                enqueue(session, key=f"burst:{n}", recipient_id=pavel.id, template="reminder", task_id=1,
                        now=clock(), context={"kind": "overdue", "late": False})
        await tg.deliver()
        delivered = tg.sent_to("pavel")[before:]
        assert len(delivered) == 200
        assert tg.fake.rejected == []  # never over the limit, so never a 429
        with tg.app.store.session() as session:
            rows = session.exec(select(Outbox).where(Outbox.key.startswith("burst:"))).all()
        assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}
        assert len({row.message_ref for row in rows}) == 200  # 200 distinct messages, none twice


async def test_a_leave_request_filled_in_private_is_approved_by_a_tap_on_its_card(met):
    tg = met
    for line in ("/form leave_request", "vacation", "14.12–24.12", "@pavel", "/skip"):
        await tg.private("olga", line)
    assert "Check “Leave request”" in tg.last("olga")["text"]
    await tg.private("olga", "/submit")
    assert "Request #1 is sent." in tg.last("olga")["text"]
    await tg.deliver()
    card = tg.last("ivan")
    assert "Manager approval" in card["text"]  # Ivan's Telegram speaks English
    await tg.tap("ivan", card, tg.buttons(card)["Approve"])
    assert tg.answers()[-1]["text"].startswith("You approved #1.")
    redrawn = tg.fake.message(card["chat"]["id"], card["message_id"])
    assert "Approve" not in tg.buttons(redrawn) and "Step 2 of 2 — HR" in redrawn["text"]
    await tg.deliver()
    assert "approved" in tg.last("olga")["text"]
    assert "#1" in tg.last("anna")["text"]  # HR is asked next


async def test_a_request_rejected_by_a_tap_asks_for_the_reason_and_the_author_hears_it(met):
    tg = met
    for line in ("/form leave_request", "vacation", "14.12–24.12", "@pavel", "/skip", "/submit"):
        await tg.private("olga", line)
    await tg.deliver()
    card = tg.last("ivan")
    await tg.tap("ivan", card, tg.buttons(card)["Reject"])
    prompt = tg.last("ivan")
    assert tg.fake.calls_of("sendMessage")[-1].params["reply_markup"]["force_reply"] is True
    await tg.private("ivan", "The dates clash with the audit", reply_to=prompt)
    assert "#1" in tg.last("ivan")["text"]
    await tg.deliver()
    assert "The dates clash with the audit" in "\n".join(m["text"] for m in tg.sent_to("olga")[-3:])


async def test_the_form_and_repeat_lists_reach_telegram_with_their_usage_lines(met):
    """Usage lines such as `/form <name> #42` are in translated strings: they must reach Telegram escaped,
    or it refuses the whole message (400 can't parse entities)."""
    tg = met
    await tg.private("olga", "/form")
    listed = tg.last("olga")["text"]
    assert "/form leave_request — Leave request" in listed
    assert "/form <name> #42 attaches a form to an existing task." in listed
    await tg.private("anna", "/form")
    assert "/form <имя> #42 — прикрепить форму к существующей задаче." in tg.last("anna")["text"]
    await tg.private("olga", "/task Weekly report every monday 10:00")
    await tg.private("olga", "/recurring")
    assert "Stop one with /recurring stop <number>." in tg.last("olga")["text"]
    await tg.private("anna", "/task Отчёт каждую пятницу в 11:00")
    await tg.private("anna", "/recurring")
    assert "Остановить: /recurring stop <номер>." in tg.last("anna")["text"]


def test_no_translated_template_string_holds_html_markup():
    """Words in templates (`_()`) are not escaped on Telegram (only their parameters are): a `<` or `&` in
    one, or in its translation, breaks the message. Pass such text as a parameter instead."""
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from core.presentation.i18n import LOCALE_DIR

    root = Path(__file__).resolve().parent.parent
    ids = {message if isinstance(message, str) else message[0] for _f, _l, message, _c, _x in extract_from_dir(
        str(root / "templates"), [("**.j2", "jinja2")],
        options_map={"**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}})}
    with open(LOCALE_DIR / "ru" / "LC_MESSAGES" / "teamflow.po", "rb") as fh:
        russian = {m.id: m.string for m in read_po(fh, locale="ru") if m.id}
    marked = sorted(text for msgid in ids for text in (msgid, russian.get(msgid) or "") if "<" in text or "&" in text)
    assert marked == []


async def test_half_an_emoji_in_an_update_is_read_as_a_replacement_character(tg):
    """Update JSON may escape a lone surrogate ("\\ud83d"); the task is made and answered, with � in its place."""
    await tg.private("olga", "/task half \ud83d pair")
    card = tg.last("olga")
    assert "Task #1 created." in card["text"] and "half \ufffd pair" in card["text"]


def test_fit_counts_utf16_units_and_never_cuts_an_emoji_in_half():
    """Telegram counts 4096 UTF-16 units: an emoji outside the BMP is two of them."""
    from adapters.telegram.keyboards import TEXT_LIMIT, fit, units

    for text, more in (("😀" * 3000, ""), ("a" + "😀" * 3000, "/show 7"), ("<b>" + "😀" * 3000 + "</b>", "")):
        fitted = fit(text, more)
        assert units(fitted) <= TEXT_LIMIT
        fitted.encode("utf-8")  # no half of a surrogate pair is left at the cut
        assert fitted.endswith(f"\n…\n{more}" if more else "\n…")
    assert fit("<b>" + "😀" * 3000 + "</b>").endswith("😀</b>\n…")  # the tag cut open is closed
    assert fit("😀" * 2048) == "😀" * 2048  # exactly 4096 units: sent whole


async def test_an_emoji_heavy_card_is_trimmed_to_4096_utf16_units(tg):
    from adapters.telegram.keyboards import TEXT_LIMIT, units

    await tg.private("olga", "/task Emoji\n" + ("🙂" * 40 + "\n") * 80)  # 3 280 characters, 6 480 units
    sent = tg.fake.calls_of("sendMessage")[-1]
    assert sent.ok and units(sent.params["text"]) <= TEXT_LIMIT
    card = tg.last("olga")
    assert "Task #1 created." in card["text"] and card["text"].rstrip().endswith("/show 1")
