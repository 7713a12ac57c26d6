"""Slack's requests through the inbox: recorded before the acknowledgement, handled once.

A bolt middleware, so HTTP and Socket Mode alike: the request's body is
recorded (its key Slack's event_id, or the trigger_id of a command or an
interaction) before any listener acknowledges it; a key recorded before is
a redelivery, acknowledged and not handled. The listeners then run inside
`inbox.handling(entry_id)`: the unit of work of their command marks the row
handled with it, and `settle` marks what ran no command when the listener
ends (errors.guarded calls it). A request no listener took is marked at once.

A request the store would not record (it refuses writes) is not handled: the
person is told nothing was saved (an event gets a 503, so Slack sends it again).
A record that waits for another writer's lock past RECORD_WITHIN_S lets the
acknowledgement go first (Slack gives up after 3 s); the request is handled
once its record lands, as a replay is. That window is the one place an
acknowledged request is not yet stored.
`SlackReplays.replay` hands an update a dead worker left back to bolt, in
Socket Mode's shape (no signature to check: it was checked when it arrived),
answered through its response_url like the first time.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from adapters.slack.blocks import escape
from core.infra import inbox
from core.infra.inbox import Stale
from core.infra.offloop import off_loop
from core.presentation.messages import NOT_SAVED

log = logging.getLogger(__name__)
REPLAYED = "inbox_entry"  # context key: a replayed request's inbox row (recorded already)
LISTENING = "inbox_listening"  # context key: a listener took the request and will settle it
NOT_RECORDED = ("url_verification", "ssl_check")  # Slack's own checks change nothing
RECORD_WITHIN_S = 2.0  # past this (another writer holds the store) the ack goes first: Slack waits 3 s
RECORD_TRIES = 60  # a record waits out another writer's lock this many times, half a second apart


def key_of(body: dict) -> str:
    """Slack's id for a request: the same for a redelivery, different for anything new."""
    if body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"slack:trigger:{body['trigger_id']}"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"slack:body:{digest}"


def record_requests(teamflow, bolt=lambda: None):
    """The middleware: record, then let the listeners run inside the row's handling. `bolt()` is the
    app, for a request acknowledged before its record landed (handled once it has)."""
    failing = {"now": False}

    async def record_request(body, context, next):
        box = teamflow.inbox
        if box is None or body.get("type") in NOT_RECORDED:
            return await next()
        entry_id = context.get(REPLAYED)
        if entry_id is None:
            recording = asyncio.ensure_future(_record(box, body))
            done, _ = await asyncio.wait({recording}, timeout=RECORD_WITHIN_S)
            if not done and bolt() is not None:  # another writer holds the store: Slack's 3 s come first
                _background(_handle_once_recorded(teamflow, bolt(), recording, body, context))
                return BoltResponse(status=200, body="")
            try:
                entry_id = await recording
            except SQLAlchemyError as exc:
                if not failing["now"]:
                    log.error("slack: requests cannot be recorded, so they are not handled: %s", exc)
                failing["now"] = True
                return await unsaved(teamflow, body, context)
            if failing["now"]:
                log.warning("slack: requests are recorded again")
                failing["now"] = False
            if entry_id is None:
                return BoltResponse(status=200, body="")  # a redelivery of a request recorded before
        with inbox.handling(entry_id) as mark:
            try:
                response = await next()
            except Exception as exc:  # a middleware failed (bolt's error handler answers): try it again later
                await _quietly(off_loop(box.give_back, entry_id, repr(exc)))
                raise
        if not context.get(LISTENING):  # turned away, or no listener for it: nothing will settle it
            await _handled(box, mark)
        return response

    return record_request


async def _record(box, body: dict) -> int | None:
    """Record a request, waiting out another writer's lock (a few tries) rather than failing on it."""
    for attempt in range(RECORD_TRIES):
        try:
            return await off_loop(box.record, "slack", key_of(body), json.dumps(body))
        except SQLAlchemyError as exc:
            if not inbox.contended(exc) or attempt == RECORD_TRIES - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def _handle_once_recorded(teamflow, bolt, recording: asyncio.Future, body: dict, context) -> None:
    """A request acknowledged while its record waited for the store: handled once it is recorded
    (as a replay is, answered on its response_url), or its sender told nothing was saved."""
    try:
        entry_id = await recording
    except SQLAlchemyError as exc:
        log.error("slack: a request acknowledged under a busy store could not be recorded: %s", exc)
        await unsaved(teamflow, body, context)
        return
    if entry_id is not None:
        await bolt.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode", context={REPLAYED: entry_id}))


_tasks: set[asyncio.Task] = set()


def _background(coroutine) -> None:
    task = asyncio.create_task(coroutine)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def unsaved(teamflow, body: dict, context) -> BoltResponse:
    """A request the store would not record: not handled (a change that got through would be made
    again if it came back). An event gets a 503, so Slack sends it again; the person behind a
    command or a tap is told nothing was saved."""
    if body.get("type") == "event_callback":
        return BoltResponse(status=503, body="")
    text = escape((await off_loop(teamflow.chat.trouble, context.get("person_id"), slack_id=context.user_id,
                                  saying=NOT_SAVED)).text)
    if "command" in body:
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if body.get("type") == "view_submission":
        return BoltResponse(status=200, body={"response_action": "errors", "errors": _on_every_block(body, text)})
    if body.get("response_url"):
        try:
            await context.respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:  # noqa: BLE001 - Slack may be failing too
            log.warning("could not tell %s that nothing was saved", context.user_id, exc_info=True)
    return BoltResponse(status=200, body="")


def _on_every_block(body: dict, text: str) -> dict:
    """A modal's errors: the words under each input block (Slack shows them beside the field)."""
    blocks = (body.get("view") or {}).get("blocks") or []
    return {b["block_id"]: text[:150] for b in blocks if b.get("type") == "input" and b.get("block_id")}


def listening(context) -> None:
    """A listener took the request: it settles the row when it ends."""
    context[LISTENING] = True


async def settle(context) -> None:
    """A listener ended: its request is handled, if no unit of work marked it already."""
    teamflow = context.get("teamflow")
    mark = inbox.current()
    if teamflow is not None and teamflow.inbox is not None and mark is not None:
        await _handled(teamflow.inbox, mark)


async def _quietly(call) -> None:
    try:
        await call
    except SQLAlchemyError:
        log.warning("inbox bookkeeping failed; the request may be handled again", exc_info=True)


async def _handled(box, mark) -> None:
    if mark is None or mark.handled:
        return
    mark.handled = True
    try:
        await off_loop(box.handled, mark.entry_id)
    except SQLAlchemyError:
        log.warning("inbox bookkeeping failed; the request may be handled again", exc_info=True)


class SlackReplays:
    """Feeds bolt what a dead worker recorded and did not finish."""

    def __init__(self, bolt) -> None:
        self.bolt = bolt
        self._running: set[asyncio.Task] = set()

    async def replay(self, stale: Stale) -> None:
        body = json.loads(stale.payload)
        log.warning("slack request %s handled again (attempt %s)", key_of(body), stale.attempts)
        request = AsyncBoltRequest(body=body, mode="socket_mode", context={REPLAYED: stale.id})
        task = asyncio.create_task(self.bolt.async_dispatch(request))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def settle(self, grace: float) -> None:
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)
