"""A fake Telegram Bot API server for tests, plus builders for real update JSON.

The fake is a small aiohttp app on 127.0.0.1 that answers the HTTP Bot API the
way Telegram does, so the real aiogram ``Bot`` (and anything built on it) can
be tested without the network::

    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))
    await bot.send_message(42, "hi")
    assert fake.sent(42)[0]["text"] == "hi"
    await bot.session.close()
    await fake.stop()

What it does, in short:

* ``POST``/``GET /bot{token}/{method}`` with a JSON, form-urlencoded or
  multipart body (aiogram uses multipart; JSON-encoded form values such as
  ``reply_markup`` are decoded back to objects, ``attach://`` references are
  replaced by :class:`Upload` objects). ``GET /file/bot{token}/{path}`` serves
  files for downloads.
* Replies are Telegram's envelopes: ``{"ok": true, "result": ...}`` or
  ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``
  with the HTTP status equal to ``error_code`` (``parameters`` appears only
  when there are some, as with Telegram).
* Every call is recorded in :attr:`FakeTelegram.calls`; messages the bot sent
  are in :meth:`FakeTelegram.sent`; edits are in :meth:`FakeTelegram.edit_history`.
* Failures can be scripted (:meth:`FakeTelegram.fail_next`), chats can be
  blocked/missing/migrated, and flood limits can be enforced
  (:meth:`FakeTelegram.enforce_limits`).
* ``parse_mode="HTML"`` is parsed like Telegram does (the stored message has
  plain text plus entities; unsupported or unbalanced tags are a 400
  "can't parse entities"). Markdown modes are stored verbatim.

The module-level builders (:func:`private_message`, :func:`group_message`,
:func:`callback_query`, ...) return update dicts shaped exactly like the ones
Telegram delivers; feed them to :meth:`FakeTelegram.queue_update` (for
polling) or to ``Dispatcher.feed_update(bot, Update.model_validate(d))``.

This module deliberately does not import aiogram: it fakes the wire protocol,
not the library.
"""
from __future__ import annotations

import asyncio
import copy
import inspect
import itertools
import json
import mimetypes
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Callable

from aiohttp import web

DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"

# Telegram's own wording for the errors the fake produces.
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
METHOD_NOT_FOUND = "Not Found: method not found"
UNAUTHORIZED = "Unauthorized"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

#: Default descriptions for :meth:`FakeTelegram.fail_next` by error code.
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: UNAUTHORIZED,
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Form fields holding free text or file references: never JSON-decoded, even
# when they happen to look like a number ("42") or a literal ("true").
TEXT_FIELDS = frozenset({
    "text", "caption", "data", "query", "callback_query_id", "inline_message_id", "description",
    "short_description", "name", "title", "url", "file_id", "parse_mode", "language_code", "secret_token",
    "business_connection_id", "emoji", "question", "explanation", "payload", "start_parameter",
    "message_effect_id", "ip_address", "first_name", "last_name", "phone_number", "address", "action",
    "document", "photo", "audio", "video", "animation", "voice", "video_note", "sticker", "thumbnail",
    "custom_emoji_id", "next_offset", "switch_pm_text", "switch_pm_parameter", "certificate",
})
_JSON_LIKE = re.compile(r"^\s*[\[{]|^-?\d+(\.\d+)?([eE][+-]?\d+)?$")
_INT = re.compile(r"^-?\d+$")
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?")
_BOT_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})


# --------------------------------------------------------------------------- records


@dataclass
class Call:
    """One Bot API call as the fake received it.

    ``params`` are the decoded parameters (uploads appear as :class:`Upload`);
    ``at`` is ``time.monotonic()`` on arrival; ``response`` is the JSON the
    fake answered with (``None`` only while the call is being handled).
    """

    method: str
    params: dict[str, Any]
    at: float
    response: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether the fake answered ``{"ok": true, ...}``."""
        return bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """The error description answered, or ``None`` for a success."""
        return None if self.response is None or self.ok else self.response.get("description")


@dataclass(frozen=True)
class Upload:
    """A file uploaded in a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class StoredFile:
    """A file the fake knows: uploaded by the bot, seen in an update, or added by a test."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes = b""
    file_size: int | None = None

    def as_file(self) -> dict[str, Any]:
        """The Bot API ``File`` object for ``getFile``."""
        size = self.file_size if self.file_size is not None else len(self.data)
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": size,
                "file_path": self.file_path}


class TelegramError(Exception):
    """An error answer; raised inside handlers and turned into Telegram's error JSON."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = {k: v for k, v in parameters.items() if v is not None}

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> TelegramError:
    """A 400 with Telegram's "Bad Request: ..." prefix."""
    return TelegramError(400, f"Bad Request: {what}")


def too_many_requests(retry_after: int) -> TelegramError:
    """Telegram's flood-control answer."""
    return TelegramError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass
class _Failure:
    code: int
    description: str
    retry_after: int | None
    migrate_to_chat_id: int | None


# --------------------------------------------------------------------------- the server


class FakeTelegram:
    """An in-process Telegram Bot API server. See the module docstring for an example.

    Attributes tests may read or set:

    * ``calls`` — every call in arrival order (including failed ones);
    * ``rejected`` — the calls refused by :meth:`enforce_limits`;
    * ``blocked_chats`` — chat ids answering 403 "bot was blocked by the user";
    * ``missing_chats`` — chat ids answering 400 "chat not found";
    * ``slow_chats`` — ``{chat_id: seconds}``: every call to that chat hangs that long and is
      then dropped unprocessed (504), like :meth:`delay_next` for one chat;
    * ``migrated_chats`` — ``{old_id: new_id}``: 400 with ``migrate_to_chat_id``
      (aiogram raises ``TelegramMigrateToChat``);
    * ``chats`` — chat objects by id, learnt from queued updates (used for
      ``getChat`` and in sent messages);
    * ``files`` — :class:`StoredFile` by ``file_id``;
    * ``webhook`` — the ``setWebhook`` parameters, or ``None``;
    * ``commands_by_scope`` — ``{(scope, language_code): [BotCommand dicts]}``.
    """

    #: Methods that count as "sends" for :meth:`enforce_limits`.
    RATE_LIMITED_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})

    def __init__(self, token: str = DEFAULT_TOKEN, bot_username: str = "teamflow_bot", *,
                 bot_first_name: str = "Teamflow") -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.url = ""
        self.calls: list[Call] = []
        self.rejected: list[Call] = []
        self.blocked_chats: set[int] = set()
        self.missing_chats: set[int] = set()
        self.migrated_chats: dict[int, int] = {}
        self.slow_chats: dict[int, float] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.webhook: dict[str, Any] | None = None
        self.commands_by_scope: dict[tuple[str, str], list[dict[str, Any]]] = {}

        self._sent: list[dict[str, Any]] = []
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._history: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        self._next_message_id: dict[int, int] = defaultdict(lambda: 1)
        self._file_numbers = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._update_arrived = asyncio.Event()
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._per_chat_limit: float | None = None
        self._global_limit: float | None = None
        self._send_times: dict[int, deque[float]] = defaultdict(deque)
        self._global_send_times: deque[float] = deque()
        self._runner: web.AppRunner | None = None

        handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
        }
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        """Start serving on 127.0.0.1 at a free port; return the base URL (also in ``self.url``)."""
        app = web.Application(client_max_size=50 * 1024 * 1024)  # Telegram's upload limit
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Stop the server (idempotent)."""
        if self._runner is not None:
            self._update_arrived.set()  # release a waiting getUpdates
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- what tests look at

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (as returned to it), oldest first, optionally for one chat."""
        return [copy.deepcopy(m) for m in self._sent if chat_id is None or m["chat"]["id"] == chat_id]

    def calls_of(self, method: str) -> list[Call]:
        """The calls of one method (case-insensitive), in order."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current state of a stored message (after edits), or ``None`` if unknown or deleted."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored) if stored else None

    def edit_history(self, chat_id: int, message_id: int) -> list[dict[str, Any]]:
        """Every version of a bot message: as sent, then after each successful edit."""
        return copy.deepcopy(self._history.get((chat_id, message_id), []))

    @property
    def commands(self) -> dict[str, list[dict[str, Any]]]:
        """Commands set for the default scope, by language code ("" = all languages)."""
        return {lang: cmds for (scope, lang), cmds in self.commands_by_scope.items() if scope == "default"}

    # ----------------------------------------------------------------- what tests set up

    def queue_update(self, update: dict[str, Any]) -> None:
        """Queue an update for ``getUpdates``; its chats, messages and files become known."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = (self._updates[-1]["update_id"] + 1) if self._updates else 1
        self._remember(update)
        self._updates.append(update)
        self._update_arrived.set()

    def add_file(self, file_id: str, data: bytes, *, file_path: str | None = None,
                 file_unique_id: str | None = None) -> StoredFile:
        """Make ``file_id`` downloadable with ``data`` (e.g. a document from an update)."""
        stored = self.files.get(file_id)
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=file_unique_id or (stored.file_unique_id if stored else f"AgAD{file_id[-8:]}"),
            file_path=file_path or (stored.file_path if stored else f"documents/{file_id}"),
            data=data,
        )
        self.files[file_id] = stored
        return stored

    def fail_next(self, method: str, *, code: int = 429, description: str | None = None,
                  retry_after: int | None = 1, times: int = 1,
                  migrate_to_chat_id: int | None = None) -> None:
        """Make the next ``times`` calls of ``method`` fail with this error.

        ``description`` defaults to Telegram's wording for ``code`` (for 429,
        "Too Many Requests: retry after N"). ``retry_after`` is sent only with
        code 429, so ``fail_next(m, code=400)`` is a plain bad request.
        """
        if description is None:
            description = (f"Too Many Requests: retry after {retry_after}" if code == 429
                           else DEFAULT_DESCRIPTIONS.get(code, "Error"))
        failure = _Failure(code, description, retry_after if code == 429 else None, migrate_to_chat_id)
        self._failures[method.lower()].extend(failure for _ in range(times))

    def delay_next(self, method: str, *, seconds: float, times: int = 1) -> None:
        """The next calls of `method` hang for `seconds` and are then dropped unprocessed
        (answered 504), like a request lost on its way: a client with a shorter timeout
        sees a timeout, and nothing was sent."""
        self._delays[method.lower()].extend(seconds for _ in range(times))

    def enforce_limits(self, per_chat_per_second: float | None = None,
                       global_per_second: float | None = None) -> None:
        """Refuse sends above these rates with 429 ``retry_after=1`` (``None`` = no limit).

        A send (see ``RATE_LIMITED_METHODS``) is refused when the accepted sends
        in the sliding window of the last second (``time.monotonic()``) already
        number ``floor(rate)``. A rate below 1 widens the window to ``1/rate``
        seconds with one send allowed in it (e.g. 20/60 for Telegram's group
        limit). Refused calls are appended to ``self.rejected``.
        """
        self._per_chat_limit = per_chat_per_second
        self._global_limit = global_per_second

    # ----------------------------------------------------------------- HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _reply(TelegramError(401, UNAUTHORIZED).as_json(), 401)
        name = request.match_info["method"]
        method, handler = self._methods.get(name.lower(), (name, None))
        try:
            params = await _read_params(request)
        except TelegramError as error:
            return _reply(error.as_json(), error.code)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        delays = self._delays.get(method.lower())
        hang = delays.popleft() if delays else self.slow_chats.get(params.get("chat_id"))
        if hang is not None:
            await asyncio.sleep(hang)
            call.response = TelegramError(504, "Gateway Timeout").as_json()
            return _reply(call.response, 504)
        try:
            if handler is None:
                raise TelegramError(404, METHOD_NOT_FOUND)
            self._raise_scripted_failure(method)
            self._check_chat(method, params)
            self._check_rate_limits(call)
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            self._count_send(call)
            call.response, status = {"ok": True, "result": result}, 200
        except TelegramError as error:
            call.response, status = error.as_json(), error.code
        return _reply(call.response, status)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _reply(TelegramError(401, UNAUTHORIZED).as_json(), 401)
        for stored in self.files.values():
            if stored.file_path == request.match_info["path"]:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return _reply(TelegramError(404, "Not Found").as_json(), 404)

    def _raise_scripted_failure(self, method: str) -> None:
        queue = self._failures.get(method.lower())
        if queue:
            failure = queue.popleft()
            raise TelegramError(failure.code, failure.description, retry_after=failure.retry_after,
                                migrate_to_chat_id=failure.migrate_to_chat_id)

    def _check_chat(self, method: str, params: dict[str, Any]) -> None:
        """Blocked, missing and migrated chats answer like Telegram for any chat-targeted call."""
        if "chat_id" not in params:
            return
        chat_id = params["chat_id"]
        if not isinstance(chat_id, int) or chat_id in self.missing_chats:
            raise bad_request("chat not found")
        if chat_id in self.blocked_chats and method != "getChat":
            raise TelegramError(403, BLOCKED)
        if chat_id in self.migrated_chats:
            raise TelegramError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                                migrate_to_chat_id=self.migrated_chats[chat_id])

    def _check_rate_limits(self, call: Call) -> None:
        if call.method not in self.RATE_LIMITED_METHODS:
            return
        chat_stamps = self._send_times[call.params.get("chat_id")]
        if (_over_limit(chat_stamps, self._per_chat_limit, call.at)
                or _over_limit(self._global_send_times, self._global_limit, call.at)):
            self.rejected.append(call)
            raise too_many_requests(1)

    def _count_send(self, call: Call) -> None:
        if call.method in self.RATE_LIMITED_METHODS:
            self._send_times[call.params.get("chat_id")].append(call.at)
            self._global_send_times.append(call.at)

    # ----------------------------------------------------------------- bookkeeping

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name,
                "username": self.bot_username}

    def _chat(self, chat_id: int) -> dict[str, Any]:
        """The chat object for messages: learnt from updates, else a plausible default."""
        if chat_id in self.chats:
            return copy.deepcopy(self.chats[chat_id])
        if chat_id > 0:
            return {"id": chat_id, "first_name": "Test", "type": "private"}
        return {"id": chat_id, "title": "Test group", "type": "supergroup"}

    def _remember(self, update: dict[str, Any]) -> None:
        """Learn chats, messages (so they can be replied to / deleted) and file ids from an update."""
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if key in update:
                self._remember_message(update[key])
        query = update.get("callback_query")
        if query and query.get("message", {}).get("date"):
            self._remember_message(query["message"])

    def _remember_message(self, message: dict[str, Any]) -> None:
        chat_id = message["chat"]["id"]
        self.chats[chat_id] = message["chat"]
        key = (chat_id, message["message_id"])
        if key not in self._messages or message.get("from", {}).get("id") != self.bot_id:
            self._messages[key] = copy.deepcopy(message)
        self._next_message_id[chat_id] = max(self._next_message_id[chat_id], message["message_id"] + 1)
        for item in [message.get("document"), *(message.get("photo") or [])]:
            if item and item["file_id"] not in self.files:
                self.files[item["file_id"]] = StoredFile(
                    item["file_id"], item["file_unique_id"], f"documents/{item['file_id']}",
                    file_size=item.get("file_size"))

    def _store_sent(self, message: dict[str, Any]) -> dict[str, Any]:
        key = (message["chat"]["id"], message["message_id"])
        self._messages[key] = copy.deepcopy(message)
        self._history[key].append(copy.deepcopy(message))
        self._sent.append(copy.deepcopy(message))
        return message

    def _new_message(self, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        """A Message from the bot in ``params["chat_id"]`` with ``content`` (text, document...)."""
        chat_id = _require_chat_id(params)
        _check_reply_markup(params.get("reply_markup"))
        message: dict[str, Any] = {"message_id": self._next_message_id[chat_id]}
        thread_id = params.get("message_thread_id")
        if thread_id:
            message["message_thread_id"] = thread_id
        message.update({"from": self._bot_user(), "chat": self._chat(chat_id), "date": int(time.time())})
        reply_to = self._reply_target(chat_id, params)
        if reply_to:
            message["reply_to_message"] = reply_to
        if thread_id:
            message["is_topic_message"] = True
        message.update(content)
        markup = _inline_markup(params.get("reply_markup"))
        if markup:
            message["reply_markup"] = markup
        self._next_message_id[chat_id] += 1
        return self._store_sent(message)

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") or params.get("reply_to_message_id")
        if not message_id:
            return None
        target = self._messages.get((reply.get("chat_id", chat_id), message_id))
        if target is None:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        target = copy.deepcopy(target)
        target.pop("reply_to_message", None)  # Telegram does not nest replies
        return target

    def _editable(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _require_chat_id(params)
        message = self._messages.get((chat_id, params.get("message_id")))
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _save_edit(self, message: dict[str, Any]) -> dict[str, Any]:
        message["edit_date"] = int(time.time())
        key = (message["chat"]["id"], message["message_id"])
        self._history[key].append(copy.deepcopy(message))
        return copy.deepcopy(message)

    def _new_file(self, upload_or_ref: Any, folder: str, default_name: str) -> tuple[StoredFile, str, str]:
        """Register a file sent by the bot. Returns (stored, file name, mime type)."""
        if isinstance(upload_or_ref, Upload):
            n = next(self._file_numbers)
            name = upload_or_ref.filename or default_name
            mime = (upload_or_ref.content_type if upload_or_ref.content_type not in ("", "application/octet-stream")
                    else mimetypes.guess_type(name)[0] or "application/octet-stream")
            ext = name.rsplit(".", 1)[-1] if "." in name else "bin"
            stored = StoredFile(f"BQACAgIAAxkDAAI{n:06d}", f"AgAD{n:06d}", f"{folder}/file_{n}.{ext}",
                                data=upload_or_ref.data)
            self.files[stored.file_id] = stored
            return stored, name, mime
        if isinstance(upload_or_ref, str) and upload_or_ref in self.files:
            stored = self.files[upload_or_ref]
            name = stored.file_path.rsplit("/", 1)[-1]
            return stored, name, mimetypes.guess_type(name)[0] or "application/octet-stream"
        if isinstance(upload_or_ref, str) and upload_or_ref.startswith(("http://", "https://")):
            name = upload_or_ref.rstrip("/").rsplit("/", 1)[-1] or default_name
            return self._new_file(Upload(name, "", b""), folder, default_name)
        raise bad_request("wrong file identifier/HTTP URL specified")

    # ----------------------------------------------------------------- methods

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        text, entities = _formatted(text, params.get("parse_mode"), params.get("entities"))
        if _utf16_len(text) > TEXT_LIMIT:
            raise bad_request("message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._new_message(params, content)

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("caption"):
            return {}
        caption, entities = _formatted(params["caption"], params.get("parse_mode"),
                                       params.get("caption_entities"))
        if _utf16_len(caption) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        return {"caption": caption, **({"caption_entities": entities} if entities else {})}

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("document"):
            raise bad_request("there is no document in the request")
        _require_chat_id(params)
        stored, name, mime = self._new_file(params["document"], "documents", "document")
        document = {"file_name": name, "mime_type": mime, "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id, "file_size": stored.file_size or len(stored.data)}
        return self._new_message(params, {"document": document, **self._caption(params)})

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("photo"):
            raise bad_request("there is no photo in the request")
        _require_chat_id(params)
        stored, _, _ = self._new_file(params["photo"], "photos", "photo.jpg")
        size = stored.file_size or len(stored.data)
        # Telegram returns several sizes, smallest first; the largest is the uploaded file.
        thumbnails = [
            {"file_id": f"{stored.file_id}_{width}", "file_unique_id": f"{stored.file_unique_id}{i}",
             "file_size": max(1, size * width // 800), "width": width, "height": width * 3 // 4}
            for i, width in enumerate((90, 320))
        ]
        largest = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": size,
                   "width": 800, "height": 600}
        photo = [*thumbnails, largest]
        return self._new_message(params, {"photo": photo, **self._caption(params)})

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked
        message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        text, entities = _formatted(text, params.get("parse_mode"), params.get("entities"))
        if _utf16_len(text) > TEXT_LIMIT:
            raise bad_request("message is too long")
        _check_reply_markup(params.get("reply_markup"))
        markup = _inline_markup(params.get("reply_markup"))  # omitting it removes the keyboard
        if (text, entities or None, markup) == (message["text"], message.get("entities"),
                                                message.get("reply_markup")):
            raise TelegramError(400, NOT_MODIFIED)
        message["text"] = text
        _set_or_drop(message, "entities", entities)
        _set_or_drop(message, "reply_markup", markup)
        return self._save_edit(message)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        _check_reply_markup(params.get("reply_markup"))
        markup = _inline_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise TelegramError(400, NOT_MODIFIED)
        _set_or_drop(message, "reply_markup", markup)
        return self._save_edit(message)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        key = (_require_chat_id(params), params.get("message_id"))
        if self._messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        return True

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        _require_chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(_require_chat_id(params))
        gifts = {"unlimited_gifts": True, "limited_gifts": True, "unique_gifts": True,
                 "premium_subscription": True, "gifts_from_channels": True}
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(params.get("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.as_file()

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not _BOT_COMMAND_NAME.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("command description is empty")
        self.commands_by_scope[_commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands_by_scope.get(_commands_key(params), [])

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands_by_scope.pop(_commands_key(params), None)
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = dict(params) if url else None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                                "pending_update_count": len(self._updates)}
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Queued updates from ``offset`` on; waits at most min(timeout, 0.5) s when there are none."""
        if self.webhook:
            raise TelegramError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                     "use deleteWebhook to delete the webhook first")
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if offset > 0:  # confirms (forgets) every earlier update, as Telegram does
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = min(float(params.get("timeout") or 0), 0.5)
        if not self._updates and timeout > 0:
            self._update_arrived.clear()
            try:
                await asyncio.wait_for(self._update_arrived.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        pending = self._updates[offset:] if offset < 0 else self._updates
        return copy.deepcopy(pending[:limit])


# --------------------------------------------------------------------------- request/response helpers


def _reply(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """The call's parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = {k: _decode_form_value(k, v) for k, v in request.query.items()}
    if request.method != "POST" or not request.body_exists:
        return params
    if request.content_type == "application/json":
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        params.update(body)
        return params
    form = await request.post()  # urlencoded and multipart alike
    uploads: dict[str, Upload] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):
            uploads[key] = Upload(value.filename, value.content_type, value.file.read())
        else:
            params[key] = _decode_form_value(key, value)
    return _resolve_attachments(params, uploads)


def _decode_form_value(key: str, value: str) -> Any:
    """Form values arrive as strings: turn JSON objects, arrays, numbers and booleans back into values."""
    if key in TEXT_FIELDS:
        return value
    if value in ("true", "false"):
        return value == "true"
    if _JSON_LIKE.match(value):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _resolve_attachments(params: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
    """Replace ``attach://name`` references by their uploads; uploads sent under a field name stay there."""
    used: set[str] = set()

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in uploads:
            used.add(value[9:])
            return uploads[value[9:]]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    resolved = {key: resolve(value) for key, value in params.items()}
    resolved.update({name: upload for name, upload in uploads.items() if name not in used})
    return resolved


def _require_chat_id(params: dict[str, Any]) -> int:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise bad_request("chat_id is empty")
    if not isinstance(chat_id, int):
        raise bad_request("chat not found")
    return chat_id


def _inline_markup(markup: Any) -> dict[str, Any] | None:
    """The markup as Telegram echoes it in a Message: only non-empty inline keyboards are kept."""
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return copy.deepcopy(markup)
    return None


def _check_reply_markup(markup: Any) -> None:
    """Reject what Telegram rejects: unparsable markup, over-long callback data, action-less buttons."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            if "callback_data" in button:
                if not 1 <= len(str(button["callback_data"]).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif set(button) <= {"text"}:
                raise bad_request("text buttons are unallowed in the inline keyboard")


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    key = scope.get("type", "default")
    if "chat_id" in scope:
        key += f":{scope['chat_id']}"
    if "user_id" in scope:
        key += f":{scope['user_id']}"
    return key, params.get("language_code") or ""


def _set_or_drop(message: dict[str, Any], key: str, value: Any) -> None:
    if value:
        message[key] = value
    else:
        message.pop(key, None)


def _over_limit(stamps: deque[float], rate: float | None, now: float) -> bool:
    """Whether one more send would exceed ``rate`` in the sliding window ending ``now``."""
    while stamps and stamps[0] <= now - 60:  # keep the deque short
        stamps.popleft()
    if rate is None:
        return False
    window = 1.0 if rate >= 1 else 1.0 / rate
    allowed = max(1, int(rate * window))
    return sum(1 for t in stamps if t > now - window) >= allowed


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units: Telegram's unit for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- HTML parse mode


def _formatted(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities as Telegram stores them (only HTML is parsed; Markdown stays verbatim)."""
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        return _TelegramHtml.parse(text)
    return text, list(entities or [])


class _TelegramHtml(HTMLParser):
    """Telegram's HTML subset: supported tags become entities, anything else is a 400."""

    TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
            "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "code": "code",
            "pre": "pre", "a": "text_link", "tg-spoiler": "spoiler", "span": "spoiler",
            "blockquote": "blockquote", "tg-emoji": "custom_emoji"}

    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=True)
        self.raw = raw
        self.parts: list[str] = []
        self.position = 0  # in UTF-16 code units
        self.open: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    @classmethod
    def parse(cls, raw: str) -> tuple[str, list[dict[str, Any]]]:
        parser = cls(raw)
        parser.feed(raw)
        parser.close()
        if parser.open:
            raise bad_request(f"can't parse entities: Can't find end tag corresponding to start tag "
                              f"\"{parser.open[-1][0]}\"")
        entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(parser.parts), entities

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        lines = self.raw.split("\n")
        return sum(len(x.encode()) + 1 for x in lines[:line - 1]) + len(lines[line - 1][:column].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in self.TAGS or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise bad_request(f"can't parse entities: Unsupported start tag \"{tag}\" at byte offset "
                              f"{self._byte_offset()}")
        self.open.append((tag, self.position, attributes))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            expected = f"\"</{self.open[-1][0]}>\"" if self.open else "nothing"
            raise bad_request(f"can't parse entities: Unmatched end tag at byte offset {self._byte_offset()}, "
                              f"expected {expected}, found \"</{tag}>\"")
        _, start, attributes = self.open.pop()
        kind = self.TAGS[tag]
        if tag == "code" and self.open and self.open[-1][0] == "pre" and "class" in attributes:
            language = str(attributes["class"]).removeprefix("language-")
            self.open[-1][2]["language"] = language  # <pre><code class="language-x"> is one pre entity
            return
        entity: dict[str, Any] = {"type": kind, "offset": start, "length": self.position - start}
        if kind == "text_link":
            entity["url"] = attributes.get("href") or ""
        elif kind == "pre" and attributes.get("language"):
            entity["language"] = attributes["language"]
        elif kind == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        if entity["length"] > 0:
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.position += _utf16_len(data)


# --------------------------------------------------------------------------- update builders


def user(user_id: int, username: str | None = None, first_name: str = "Test",
         language_code: str | None = "en") -> dict[str, Any]:
    """A Bot API ``User`` for a person."""
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        person["username"] = username
    if language_code:
        person["language_code"] = language_code
    return person


def private_chat(person: dict[str, Any]) -> dict[str, Any]:
    """The private ``Chat`` with a person (a ``user()`` dict)."""
    chat: dict[str, Any] = {"id": person["id"], "first_name": person["first_name"]}
    if "username" in person:
        chat["username"] = person["username"]
    chat["type"] = "private"
    return chat


def group_chat(chat_id: int, title: str = "Test group", *, is_forum: bool = False,
               chat_type: str = "supergroup") -> dict[str, Any]:
    """A group ``Chat`` (supergroup ids look like -100xxxxxxxxxx)."""
    if chat_id >= 0:
        raise ValueError(f"group chat ids are negative, got {chat_id}")
    chat: dict[str, Any] = {"id": chat_id, "title": title, "type": chat_type}
    if is_forum:
        chat["is_forum"] = True
    return chat


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity Telegram adds for a leading ``/command`` (or ``/command@bot``)."""
    match = _COMMAND.match(text)
    return [{"offset": 0, "length": _utf16_len(match.group()), "type": "bot_command"}] if match else []


def _message(update_id: int, chat: dict[str, Any], person: dict[str, Any], content: dict[str, Any], *,
             message_id: int | None, reply_to: dict[str, Any] | None, date: int | None,
             thread_id: int | None = None, topic_name: str = "Topic") -> dict[str, Any]:
    """An update carrying one message; the shared shape behind the public builders."""
    message: dict[str, Any] = {"message_id": message_id if message_id is not None else update_id}
    if thread_id is not None:
        message["message_thread_id"] = thread_id
    message.update({"from": person, "chat": chat, "date": date if date is not None else int(time.time())})
    if thread_id is not None and reply_to is None:
        # Telegram makes a topic message "reply" to the topic's creation message.
        reply_to = {"message_id": thread_id, "message_thread_id": thread_id, "from": person, "chat": chat,
                    "date": message["date"], "forum_topic_created": {"name": topic_name, "icon_color": 7322096},
                    "is_topic_message": True}
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    if thread_id is not None:
        message["is_topic_message"] = True
    message.update(content)
    return {"update_id": update_id, "message": message}


def _text_content(text: str) -> dict[str, Any]:
    entities = command_entities(text)
    return {"text": text, **({"entities": entities} if entities else {})}


def private_message(update_id: int, user_id: int, text: str, *, username: str | None = None,
                    first_name: str = "Test", language_code: str | None = "en", message_id: int | None = None,
                    reply_to: dict[str, Any] | None = None, date: int | None = None) -> dict[str, Any]:
    """An update with a text message from ``user_id`` in their private chat with the bot.

    ``message_id`` defaults to ``update_id``; ``reply_to`` is the message dict
    replied to; a leading ``/command`` gets its ``bot_command`` entity.
    """
    person = user(user_id, username, first_name, language_code)
    return _message(update_id, private_chat(person), person, _text_content(text), message_id=message_id,
                    reply_to=reply_to, date=date)


def group_message(update_id: int, chat_id: int, user_id: int, text: str, *, username: str | None = None,
                  first_name: str = "Test", language_code: str | None = "en", title: str = "Test group",
                  thread_id: int | None = None, topic_name: str = "Topic", message_id: int | None = None,
                  reply_to: dict[str, Any] | None = None, date: int | None = None) -> dict[str, Any]:
    """An update with a text message from ``user_id`` in the supergroup ``chat_id``.

    With ``thread_id`` the group is a forum and the message is in that topic
    (``message_thread_id`` + ``is_topic_message``; like Telegram, it then
    replies to the topic's creation message unless ``reply_to`` is given).
    """
    person = user(user_id, username, first_name, language_code)
    chat = group_chat(chat_id, title, is_forum=thread_id is not None)
    return _message(update_id, chat, person, _text_content(text), message_id=message_id, reply_to=reply_to,
                    date=date, thread_id=thread_id, topic_name=topic_name)


def callback_query(update_id: int, user_id: int, message: dict[str, Any], data: str, *,
                   username: str | None = None, first_name: str = "Test", language_code: str | None = "en",
                   query_id: str | None = None) -> dict[str, Any]:
    """An update for a press on an inline button with ``data`` under ``message`` (the bot's message dict)."""
    chat_id = message["chat"]["id"]
    return {"update_id": update_id, "callback_query": {
        "id": query_id or str(4_000_000_000_000_000_000 + update_id),
        "from": user(user_id, username, first_name, language_code),
        "message": message,
        "chat_instance": str(-(5_000_000_000_000_000_000 + abs(chat_id))),
        "data": data,
    }}


def document_message(update_id: int, user_id: int, *, file_name: str = "report.pdf",
                     mime_type: str = "application/pdf", file_size: int = 2048, file_id: str | None = None,
                     caption: str | None = None, chat_id: int | None = None, username: str | None = None,
                     first_name: str = "Test", language_code: str | None = "en", message_id: int | None = None,
                     date: int | None = None) -> dict[str, Any]:
    """An update with a document sent by ``user_id`` (in private, or in group ``chat_id``)."""
    person = user(user_id, username, first_name, language_code)
    chat = private_chat(person) if chat_id is None else group_chat(chat_id)
    document = {"file_name": file_name, "mime_type": mime_type,
                "file_id": file_id or f"BQACAgIAAxkBAAI{update_id:06d}", "file_unique_id": f"AgADd{update_id:06d}",
                "file_size": file_size}
    content: dict[str, Any] = {"document": document}
    if caption:
        content["caption"] = caption
    return _message(update_id, chat, person, content, message_id=message_id, reply_to=None, date=date)


def photo_message(update_id: int, user_id: int, *, caption: str | None = None, chat_id: int | None = None,
                  sizes: tuple[tuple[int, int], ...] = ((90, 67), (320, 240), (800, 600), (1280, 960)),
                  username: str | None = None, first_name: str = "Test", language_code: str | None = "en",
                  message_id: int | None = None, date: int | None = None) -> dict[str, Any]:
    """An update with a photo (one ``PhotoSize`` per size, smallest first, as Telegram sends)."""
    person = user(user_id, username, first_name, language_code)
    chat = private_chat(person) if chat_id is None else group_chat(chat_id)
    photo = [{"file_id": f"AgACAgIAAxkBAAI{update_id:06d}{i}", "file_unique_id": f"AQADp{update_id:06d}{i}",
              "file_size": w * h // 10, "width": w, "height": h} for i, (w, h) in enumerate(sizes)]
    content: dict[str, Any] = {"photo": photo}
    if caption:
        content["caption"] = caption
    return _message(update_id, chat, person, content, message_id=message_id, reply_to=None, date=date)


def migrate_message(update_id: int, old_chat_id: int, new_chat_id: int, *, user_id: int = 1,
                    title: str = "Test group", message_id: int | None = None,
                    date: int | None = None) -> dict[str, Any]:
    """The service message in a basic group that became the supergroup ``new_chat_id``."""
    person = user(user_id)
    chat = group_chat(old_chat_id, title, chat_type="group")
    return _message(update_id, chat, person, {"migrate_to_chat_id": new_chat_id}, message_id=message_id,
                    reply_to=None, date=date)


def migrate_from_message(update_id: int, new_chat_id: int, old_chat_id: int, *, user_id: int = 1,
                         title: str = "Test group", message_id: int | None = None,
                         date: int | None = None) -> dict[str, Any]:
    """The companion service message Telegram posts in the new supergroup."""
    person = user(user_id)
    chat = group_chat(new_chat_id, title)
    return _message(update_id, chat, person, {"migrate_from_chat_id": old_chat_id}, message_id=message_id,
                    reply_to=None, date=date)
