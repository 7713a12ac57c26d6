"""Slack's outbound side: DMs, channel posts, edits, ephemerals, modals and App Home.

chat.postMessage is paced to about one message a second per channel (Slack's
documented limit). A 429 with a short Retry-After is retried in place by
slack_sdk's rate-limit retry handler (see wiring.py); a longer one blocks that
channel's bucket and hands the row back to the outbox with its retry_after,
so nothing is dropped and one busy channel does not hold up the rest.
"""
from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import blocks, fallback
from core.domain.models import Person
from core.infra.offloop import off_loop
from core.infra.outbox import DeliveryError, Sent
from core.infra.ratelimit import Limit, RateLimiter
from core.presentation.messages import Message

log = logging.getLogger(__name__)

PER_CHANNEL = Limit.per_second(1, burst=1)
MAX_WAIT_S = 2.0
ANSWER_ATTEMPTS = 5
# Errors that may pass: Slack's own trouble. Anything else is the same next time.
TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class SlackMessenger:
    """Sends and redraws messages for the outbox and for the listeners."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, limiter: RateLimiter | None = None, chat=None) -> None:
        self.client = client
        self.limiter = limiter if limiter is not None else RateLimiter()  # (an empty limiter is falsy)
        self.chat = chat  # core.chat.Chat: remembers the cards sent as answers
        self._dms: dict[str, str] = {}  # member id -> the bot's DM channel with them

    def reaches(self, person: Person) -> bool:
        return bool(person.slack_id)

    async def send(self, person: Person, message: Message) -> Sent:
        """A notice to the member's DM with the bot."""
        return await self.send_to_chat(await self.dm_channel(person.slack_id), message)

    async def send_to_chat(self, chat_id: str, message: Message, *, thread_ts: str | None = None) -> Sent:
        """A post to a channel or DM (in a thread when `thread_ts` is given), paced per channel."""
        await self._pace(chat_id)
        response = await self._call(chat_id, self.client.chat_postMessage(
            channel=chat_id, text=fallback(message), blocks=blocks(message), thread_ts=thread_ts,
            unfurl_links=False, unfurl_media=False,
        ))
        return Sent(self.platform, response["channel"], response["ts"])

    async def update(self, chat_id: str, message_id: str, message: Message) -> None:
        """Redraw a message in place; one that is gone (or not ours) is fine."""
        try:
            await self._call(chat_id, self.client.chat_update(
                channel=chat_id, ts=message_id, text=fallback(message), blocks=blocks(message)))
        except DeliveryError as exc:
            if str(exc) not in GONE:
                raise

    async def answer(self, chat_id: str, message: Message, person_id: int | None, *,
                     thread_ts: str | None = None) -> Sent:
        """An answer to what someone did: waits out a 429 rather than dropping it; cards are remembered."""
        for attempt in range(ANSWER_ATTEMPTS):
            try:
                sent = await self.send_to_chat(chat_id, message, thread_ts=thread_ts)
                break
            except DeliveryError as exc:
                if exc.retry_after is None or exc.permanent or attempt == ANSWER_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(exc.retry_after)
        if message.task_id and self.chat is not None:
            await off_loop(self.chat.remember_card, message.task_id, sent, person_id)
        return sent

    async def ephemeral(self, chat_id: str, user_id: str, message: Message, *, thread_ts: str | None = None) -> None:
        """Only this person sees it (refusals, confirmations); not kept in the channel's history."""
        await self._call(chat_id, self.client.chat_postEphemeral(
            channel=chat_id, user=user_id, text=fallback(message), blocks=blocks(message), thread_ts=thread_ts))

    async def open_modal(self, trigger_id: str, view: dict) -> None:
        """A modal, opened right after the acknowledgement (a trigger_id lives 3 seconds)."""
        await self._call("views", self.client.views_open(trigger_id=trigger_id, view=view))

    async def publish_home(self, user_id: str, view: dict) -> None:
        """The member's App Home tab."""
        await self._call("views", self.client.views_publish(user_id=user_id, view=view))

    async def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel with a member (opened once, then remembered)."""
        if user_id not in self._dms:
            response = await self._call(user_id, self.client.conversations_open(users=user_id))
            self._dms[user_id] = response["channel"]["id"]
        return self._dms[user_id]

    async def _pace(self, chat_id: str) -> None:
        """Wait for this channel's turn, unless the wait is long: then the outbox retries later."""
        scope = [(f"slack:channel:{chat_id}", PER_CHANNEL)]
        delay = self.limiter.reserve_delay(*scope)
        if delay > MAX_WAIT_S:
            raise DeliveryError(f"channel {chat_id} is paced for {delay:.1f}s", retry_after=delay)
        await self.limiter.acquire(*scope)

    async def _call(self, chat_id: str, request):
        """Await one Web API call, translating Slack's errors for the outbox."""
        try:
            return await request
        except SlackApiError as exc:
            raise self._delivery_error(chat_id, exc) from exc

    def _delivery_error(self, chat_id: str, exc: SlackApiError) -> DeliveryError:
        error = str(exc.response.get("error", "unknown_error"))
        if exc.response.status_code == 429:
            retry_after = float(exc.response.headers.get("Retry-After", 1))
            self.limiter.penalize(f"slack:channel:{chat_id}", retry_after)
            return DeliveryError(error, retry_after=retry_after)
        if error in TRANSIENT or exc.response.status_code >= 500:
            return DeliveryError(error)
        return DeliveryError(error, permanent=True)
