"""A request whose handling raised: logged with the request, and the person is told.

Every listener runs `guarded`: its exception is caught there, not left to
bolt (whose runner, when a listener fails within 10 ms of its ack, forgets the
ack and answers Slack 404 "unhandled request"). A command that failed before
its ack is acknowledged with the apology; otherwise it goes where the person
acted (response_url, an ephemeral, or a DM). A middleware's exception (the
member lookup, say) reaches `on_error`, bolt's error handler, with the
response still unsent: it becomes a 200 carrying the apology.
"""
from __future__ import annotations

import functools
import inspect
import json
import logging

from slack_bolt.async_app import AsyncApp

from adapters.slack import durable
from adapters.slack.blocks import escape
from adapters.slack.replies import tell
from core.infra.offloop import off_loop
from core.presentation.i18n import gettext_for
from core.presentation.messages import SOMETHING_WRONG, Message

log = logging.getLogger(__name__)
BODY_LOGGED = 4000  # characters of the request body kept in the log line


def guarded(listener):
    """The listener, with any exception it raises logged and apologised for."""
    wanted = list(inspect.signature(listener).parameters)

    @functools.wraps(listener)
    async def run(ack, body, context, respond, command, action, view, event) -> None:
        given = {"ack": ack, "body": body, "context": context, "respond": respond, "command": command,
                 "action": action, "view": view, "event": event}
        durable.listening(context)
        try:
            await listener(**{name: given[name] for name in wanted})
        except Exception as error:  # noqa: BLE001 - one request must never take the others down
            message = await _logged(error, body, context)
            if ack.response is None:  # not acknowledged yet: the apology rides on the ack where it can
                await (ack(response_type="ephemeral", text=escape(message.text)) if "command" in body else ack())
                if "command" in body:
                    return await durable.settle(context)
            await _tell(context, body, message, respond)
        await durable.settle(context)  # handled, whatever it did (a failure is not tried again)

    del run.__wrapped__  # bolt reads the parameters of `run`, not of the listener
    return run


async def on_error(error: Exception, body: dict, context, response, respond) -> None:
    """Bolt's error handler (middleware errors): a 200 with the apology instead of a 500."""
    message = await _logged(error, body, context)
    if response is None:
        await _tell(context, body, message, respond)
        return
    response.status, response.headers, response.body = 200, {"content-type": ["application/json"]}, ""
    if "command" in body:  # the apology rides on the acknowledgement
        response.body = json.dumps({"response_type": "ephemeral", "text": escape(message.text)})
        return
    await _tell(context, body, message, respond)


async def _logged(error: Exception, body: dict, context) -> Message:
    """Log the failure with the request; the apology in the person's language."""
    log.error("slack request failed: %s", json.dumps(body, default=str)[:BODY_LOGGED], exc_info=error)
    teamflow = context.get("teamflow")
    if teamflow is None:
        return Message(gettext_for("en")(SOMETHING_WRONG), kind="refusal")
    return await off_loop(teamflow.chat.trouble, context.get("person_id"), slack_id=context.user_id)


async def _tell(context, body: dict, message: Message, respond) -> None:
    """Where the person acted: the command's response_url, the tap's place, or their DM."""
    slack = context.get("slack")
    try:
        if "command" in body:
            await respond(text=escape(message.text), response_type="ephemeral")
        elif slack is not None and isinstance(body.get("user"), dict):
            await tell(slack, body, message, respond)
        elif slack is not None and (body.get("event") or {}).get("channel_type") == "im":
            await slack.send_to_chat(body["event"]["channel"], message)
    except Exception:  # noqa: BLE001 - Slack itself may be what failed
        log.warning("could not tell slack user %s about the failure", context.user_id, exc_info=True)


def register(app: AsyncApp) -> None:
    """Errors outside the listeners (middleware) end here."""
    app.error(on_error)
