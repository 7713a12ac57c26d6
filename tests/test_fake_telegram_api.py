"""The fake Telegram Bot API answers the real aiogram Bot the way Telegram does."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    TelegramObject,
    Update,
)

from tests.fakes.telegram_api import (
    NOT_MODIFIED,
    FakeTelegram,
    Upload,
    callback_query,
    document_message,
    group_message,
    migrate_from_message,
    migrate_message,
    photo_message,
    private_message,
    user,
)

ALICE = 42
TEAM = -1001234567890


@pytest.fixture
async def fake():
    telegram = FakeTelegram()
    await telegram.start()
    yield telegram
    await telegram.stop()


def make_bot(fake: FakeTelegram, token: str | None = None, **defaults) -> Bot:
    """A real aiogram Bot whose requests go to the fake."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    return Bot(token or fake.token, session=session, default=DefaultBotProperties(**defaults))


@pytest.fixture
async def bot(fake):
    real_bot = make_bot(fake)
    yield real_bot
    await real_bot.session.close()


def keyboard(*datas: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=d.title(), callback_data=d)]
                                                 for d in datas])


def same(a: TelegramObject | list, b: TelegramObject | list) -> bool:
    """Equal content (aiogram objects returned by a Bot also carry the bot, which `==` compares)."""
    def dump(x):
        return [i.model_dump() for i in x] if isinstance(x, list) else x.model_dump()
    return dump(a) == dump(b)


def unknown_fields(obj: object, path: str = "update") -> list[str]:
    """Fields aiogram accepted only as extras (its models allow extras, which would hide typos)."""
    found = []
    if isinstance(obj, TelegramObject):
        found += [f"{path}.{name}" for name in (obj.model_extra or {})]
        for name in type(obj).model_fields:
            found += unknown_fields(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            found += unknown_fields(item, f"{path}[{i}]")
    return found


# --------------------------------------------------------------------------- server basics


async def test_starts_on_localhost_with_a_random_port(fake):
    assert fake.url.startswith("http://127.0.0.1:")
    assert int(fake.url.rsplit(":", 1)[1]) > 0


async def test_get_me(fake, bot):
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "teamflow_bot")
    assert [c.method for c in fake.calls] == ["getMe"]


async def test_send_message_returns_a_message_and_records_its_keyboard(fake, bot):
    markup = keyboard("done", "snooze")
    message = await bot.send_message(ALICE, "Task #1: write the report", reply_markup=markup)

    assert isinstance(message, Message)
    assert message.chat.id == ALICE and message.chat.type == "private"
    assert message.from_user.username == "teamflow_bot"
    assert message.text == "Task #1: write the report"
    assert same(message.reply_markup, markup)
    call = fake.calls_of("sendMessage")[0]
    assert call.ok and call.params["chat_id"] == ALICE
    assert InlineKeyboardMarkup.model_validate(call.params["reply_markup"]) == markup
    assert fake.sent(ALICE)[0]["reply_markup"] == markup.model_dump(exclude_none=True)


async def test_message_ids_increase_per_chat_and_group_messages_keep_their_topic(fake, bot):
    first = await bot.send_message(ALICE, "one")
    second = await bot.send_message(ALICE, "two")
    in_topic = await bot.send_message(TEAM, "hello topic", message_thread_id=7)
    assert (first.message_id, second.message_id, in_topic.message_id) == (1, 2, 1)
    assert in_topic.chat.type == "supergroup"
    assert in_topic.message_thread_id == 7 and in_topic.is_topic_message
    assert [m["text"] for m in fake.sent(ALICE)] == ["one", "two"]
    assert len(fake.sent()) == 3


async def test_replies_quote_the_stored_message(bot):
    original = await bot.send_message(ALICE, "original")
    reply = await bot.send_message(ALICE, "reply", reply_parameters=ReplyParameters(message_id=original.message_id))
    assert reply.reply_to_message.text == "original"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ALICE, "reply", reply_parameters=ReplyParameters(message_id=999))


# --------------------------------------------------------------------------- edits


async def test_editing_with_identical_content_is_not_modified(fake, bot):
    message = await bot.send_message(ALICE, "Task #1", reply_markup=keyboard("done"))

    with pytest.raises(TelegramBadRequest, match="message is not modified") as caught:
        await bot.edit_message_text("Task #1", chat_id=ALICE, message_id=message.message_id,
                                    reply_markup=keyboard("done"))
    assert caught.value.message == NOT_MODIFIED
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=ALICE, message_id=message.message_id,
                                            reply_markup=keyboard("done"))


async def test_edits_update_the_message_and_keep_a_history(fake, bot):
    message = await bot.send_message(ALICE, "Task #1", reply_markup=keyboard("done"))

    edited = await bot.edit_message_text("Task #1 ✅", chat_id=ALICE, message_id=message.message_id)
    assert edited.text == "Task #1 ✅" and edited.edit_date is not None
    assert edited.reply_markup is None  # like Telegram: an edit without markup removes the keyboard
    rekeyed = await bot.edit_message_reply_markup(chat_id=ALICE, message_id=message.message_id,
                                                  reply_markup=keyboard("reopen"))
    assert same(rekeyed.reply_markup, keyboard("reopen"))

    history = fake.edit_history(ALICE, message.message_id)
    assert [v["text"] for v in history] == ["Task #1", "Task #1 ✅", "Task #1 ✅"]
    assert fake.message(ALICE, message.message_id)["reply_markup"] == keyboard("reopen").model_dump(exclude_none=True)
    assert fake.sent(ALICE)[0]["text"] == "Task #1"  # sent() shows what was sent


async def test_editing_an_unknown_message_is_not_found(bot):
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=12345)


async def test_the_bot_cannot_edit_a_users_message_but_can_delete_it(fake, bot):
    fake.queue_update(private_message(1, ALICE, "hello", message_id=10))
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("changed", chat_id=ALICE, message_id=10)
    assert await bot.delete_message(ALICE, 10) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, 10)
    assert (await bot.send_message(ALICE, "next")).message_id == 11  # ids are shared per chat


# --------------------------------------------------------------------------- HTML parse mode


async def test_html_is_parsed_into_text_and_entities(fake):
    html_bot = make_bot(fake, parse_mode="HTML")
    try:
        message = await html_bot.send_message(ALICE, '<b>Task</b> &amp; <a href="https://x.io">link</a>')
        assert message.text == "Task & link"
        assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 4), ("text_link", 7, 4)]
        with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag \"div\""):
            await html_bot.send_message(ALICE, "<div>x</div>")
        with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start tag \"b\""):
            await html_bot.send_message(ALICE, "<b>unclosed")
        # The 4096 limit applies to the parsed text, not to the markup around it.
        long_but_fits = "<b>" + "x" * 4096 + "</b>"
        assert len((await html_bot.send_message(ALICE, long_but_fits)).text) == 4096
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await html_bot.send_message(ALICE, "x" * 4097)
    finally:
        await html_bot.session.close()


# --------------------------------------------------------------------------- failures


async def test_fail_next_makes_the_next_calls_fail(fake, bot):
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE, "hi")
    assert caught.value.retry_after == 3
    assert (await bot.send_message(ALICE, "hi again")).text == "hi again"
    assert [c.ok for c in fake.calls_of("sendMessage")] == [False, True]
    assert fake.calls_of("sendMessage")[0].error == "Too Many Requests: retry after 3"

    fake.fail_next("sendMessage", code=400, description="Bad Request: something odd", times=2)
    for _ in range(2):
        with pytest.raises(TelegramBadRequest, match="something odd"):
            await bot.send_message(ALICE, "hi")
    await bot.send_message(ALICE, "fine")


async def test_blocked_missing_and_migrated_chats(fake, bot):
    fake.blocked_chats.add(ALICE)
    fake.missing_chats.add(777)
    fake.migrated_chats[-555] = TEAM
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(777, "hi")
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(-555, "hi")
    assert caught.value.migrate_to_chat_id == TEAM
    assert fake.sent() == []


async def test_per_chat_rate_limit_rejects_bursts(fake, bot):
    fake.enforce_limits(per_chat_per_second=5)
    accepted, refused = 0, 0
    for i in range(10):
        try:
            await bot.send_message(ALICE, f"message {i}")
            accepted += 1
        except TelegramRetryAfter as error:
            assert error.retry_after == 1
            refused += 1
    assert (accepted, refused) == (5, 5)
    assert len(fake.rejected) == 5 and all(c.response["error_code"] == 429 for c in fake.rejected)
    assert len(fake.sent(ALICE)) == 5
    await bot.send_message(ALICE + 1, "another chat is not limited")


async def test_global_rate_limit_counts_all_chats(fake, bot):
    fake.enforce_limits(global_per_second=3)
    for chat_id in (1, 2, 3):
        await bot.send_message(chat_id, "hi")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(4, "hi")
    assert [c.params["chat_id"] for c in fake.rejected] == [4]


async def test_the_window_slides(fake, bot, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    fake.enforce_limits(per_chat_per_second=2)
    await bot.send_message(ALICE, "1")
    await bot.send_message(ALICE, "2")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(ALICE, "3")
    now[0] += 1.01
    await bot.send_message(ALICE, "4")


async def test_unknown_method_and_wrong_token(fake, bot):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.url}/bot{fake.token}/sendTelepathy", json={"chat_id": 1}) as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404,
                                             "description": "Not Found: method not found"}
    intruder = make_bot(fake, token="654321:WRONG-token-abcdefghijklmnopqrstuvwxyz")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await intruder.get_me()
    finally:
        await intruder.session.close()


async def test_invalid_keyboards_and_commands_are_rejected_like_telegram(bot):
    too_long = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "hi", reply_markup=too_long)
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Tasks", description="Uppercase is invalid")])


# --------------------------------------------------------------------------- request encodings


async def test_json_urlencoded_and_query_string_requests(fake):
    base = f"{fake.url}/bot{fake.token}"
    markup = {"inline_keyboard": [[{"text": "Done", "callback_data": "done"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendMessage", json={"chat_id": ALICE, "text": "json",
                                                         "reply_markup": markup}) as response:
            body = await response.json()
            assert body["ok"] and body["result"]["reply_markup"] == markup
        form = {"chat_id": str(ALICE), "text": "123", "reply_markup": '{"inline_keyboard": '
                '[[{"text": "Done", "callback_data": "done"}]]}', "disable_notification": "true"}
        async with http.post(f"{base}/sendMessage", data=form) as response:
            assert (await response.json())["result"]["text"] == "123"
        async with http.get(f"{base}/getMe") as response:
            assert (await response.json())["result"]["username"] == "teamflow_bot"
    params = fake.calls_of("sendMessage")[1].params
    assert params == {"chat_id": ALICE, "text": "123", "reply_markup": markup, "disable_notification": True}


async def test_multipart_uploads_become_documents_that_can_be_downloaded(fake, bot):
    report = BufferedInputFile(b"%PDF-1.4 weekly report", filename="weekly.pdf")
    message = await bot.send_document(ALICE, report, caption="This week", reply_markup=keyboard("ack"))

    assert message.document.file_name == "weekly.pdf"
    assert message.document.mime_type == "application/pdf"
    assert message.document.file_size == len(b"%PDF-1.4 weekly report")
    assert message.caption == "This week" and same(message.reply_markup, keyboard("ack"))
    params = fake.calls_of("sendDocument")[0].params
    assert isinstance(params["document"], Upload) and params["document"].data.startswith(b"%PDF")
    assert params["reply_markup"] == keyboard("ack").model_dump(exclude_none=True)  # decoded from the form

    file = await bot.get_file(message.document.file_id)
    assert file.file_path.endswith(".pdf")
    downloaded = await bot.download_file(file.file_path)
    assert downloaded.read() == b"%PDF-1.4 weekly report"

    again = await bot.send_document(TEAM, message.document.file_id)  # resend by file_id
    assert again.document.file_id == message.document.file_id


async def test_photos_come_back_in_several_sizes(bot):
    message = await bot.send_photo(ALICE, BufferedInputFile(b"\xff\xd8jpeg", filename="chart.jpg"))
    assert len(message.photo) == 3
    assert message.photo[-1].width == max(p.width for p in message.photo)


async def test_files_seen_in_updates_can_be_fetched(fake, bot):
    update = document_message(5, ALICE, file_name="plan.xlsx")
    file_id = update["message"]["document"]["file_id"]
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file(file_id)
    fake.queue_update(update)
    fake.add_file(file_id, b"cells")
    file = await bot.get_file(file_id)
    assert (await bot.download_file(file.file_path)).read() == b"cells"


# --------------------------------------------------------------------------- other methods


async def test_small_methods(fake, bot):
    assert await bot.answer_callback_query("123", text="Done") is True
    assert await bot.send_chat_action(ALICE, "typing") is True
    chat = await bot.get_chat(ALICE)
    assert chat.id == ALICE and chat.type == "private"
    fake.queue_update(group_message(1, TEAM, ALICE, "hi", title="Platform team"))
    assert (await bot.get_chat(TEAM)).title == "Platform team"


async def test_commands_are_recorded_per_language_and_scope(fake, bot):
    english = [BotCommand(command="tasks", description="My tasks")]
    russian = [BotCommand(command="tasks", description="Мои задачи")]
    assert await bot.set_my_commands(english)
    assert await bot.set_my_commands(russian, language_code="ru")
    assert await bot.set_my_commands(english, scope=BotCommandScopeAllGroupChats())
    assert fake.commands == {"": [{"command": "tasks", "description": "My tasks"}],
                             "ru": [{"command": "tasks", "description": "Мои задачи"}]}
    assert ("all_group_chats", "") in fake.commands_by_scope
    assert same(await bot.get_my_commands(language_code="ru"), russian)
    assert await bot.delete_my_commands(language_code="ru")
    assert "ru" not in fake.commands


async def test_webhook_methods_and_the_polling_conflict(fake, bot):
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.set_webhook("https://teamflow.example/tg", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://teamflow.example/tg"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://insecure.example/tg")
    assert await bot.delete_webhook()
    assert await bot.get_updates() == []


# --------------------------------------------------------------------------- updates


def all_builders() -> dict[str, dict]:
    sent = {"message_id": 3, "from": {"id": 123456, "is_bot": True, "first_name": "Teamflow",
                                      "username": "teamflow_bot"},
            "chat": {"id": ALICE, "first_name": "Test", "type": "private"}, "date": 1_700_000_000,
            "text": "Task #1", "reply_markup": keyboard("done").model_dump(exclude_none=True)}
    command = private_message(1, ALICE, "/start@teamflow_bot invite", username="alice", language_code="ru")
    return {
        "private": private_message(2, ALICE, "hello"),
        "command": command,
        "reply": private_message(3, ALICE, "yes", reply_to=sent),
        "group": group_message(4, TEAM, ALICE, "/tasks", username="alice"),
        "topic": group_message(5, TEAM, ALICE, "in a topic", thread_id=77, topic_name="Releases"),
        "callback": callback_query(6, ALICE, sent, "task:1:done"),
        "document": document_message(7, ALICE, caption="report"),
        "group document": document_message(8, ALICE, chat_id=TEAM),
        "photo": photo_message(9, ALICE, caption="chart"),
        "migrate": migrate_message(10, -555, TEAM),
        "migrate from": migrate_from_message(11, TEAM, -555),
    }


@pytest.mark.parametrize("name", list(all_builders()))
def test_every_builder_makes_an_update_aiogram_accepts_without_unknown_fields(name):
    update = Update.model_validate(all_builders()[name])
    assert update.event_type in {"message", "callback_query"}
    assert unknown_fields(update) == []


def test_builders_look_like_telegram():
    built = {name: Update.model_validate(d) for name, d in all_builders().items()}

    command = built["command"].message
    assert command.from_user == command.from_user.model_validate(user(ALICE, "alice", language_code="ru"))
    assert [(e.type, e.offset, e.length) for e in command.entities] == [("bot_command", 0, 19)]
    assert built["private"].message.entities is None
    assert built["reply"].message.reply_to_message.text == "Task #1"
    assert built["group"].message.chat.type == "supergroup"
    assert built["group"].message.entities[0].length == len("/tasks")

    topic = built["topic"].message
    assert topic.is_topic_message and topic.message_thread_id == 77 and topic.chat.is_forum
    assert topic.reply_to_message.forum_topic_created.name == "Releases"

    press = built["callback"].callback_query
    assert press.data == "task:1:done" and press.message.message_id == 3 and press.from_user.id == ALICE

    assert built["document"].message.document.file_name == "report.pdf"
    assert built["group document"].message.chat.id == TEAM
    assert [p.width for p in built["photo"].message.photo] == [90, 320, 800, 1280]
    migrate = built["migrate"].message
    assert migrate.migrate_to_chat_id == TEAM and migrate.chat.type == "group"
    assert built["migrate from"].message.migrate_from_chat_id == -555


async def test_get_updates_returns_queued_updates_and_honours_offset(fake, bot):
    fake.queue_update(private_message(100, ALICE, "/start"))
    fake.queue_update(private_message(101, ALICE, "hello"))

    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [100, 101]
    assert updates[0].message.text == "/start"
    assert [u.update_id for u in await bot.get_updates(offset=101)] == [101]  # confirms 100

    started = time.monotonic()
    assert await bot.get_updates(offset=102, timeout=30) == []
    assert time.monotonic() - started < 2  # long polls are capped at 0.5 s


async def test_a_waiting_get_updates_wakes_up_when_an_update_arrives(fake, bot):
    waiting = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    fake.queue_update(private_message(1, ALICE, "ping"))
    assert [u.message.text for u in await waiting] == ["ping"]


async def test_a_real_dispatcher_polls_and_answers_through_the_fake(fake, bot):
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(f"Hi, {message.from_user.first_name}!", reply_markup=keyboard("tasks"))

    fake.queue_update(private_message(1, ALICE, "/start", first_name="Alice"))
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False))
    try:
        for _ in range(100):
            if fake.sent(ALICE):
                break
            await asyncio.sleep(0.02)
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 5)
    assert fake.sent(ALICE)[0]["text"] == "Hi, Alice!"
    assert "getUpdates" in {c.method for c in fake.calls}
