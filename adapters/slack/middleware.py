"""Global middleware: drop a retried event, then find the member behind every request.

The member's id (or None) reaches listeners as `context["person_id"]`,
beside `context["teamflow"]` (the App) and `context["slack"]` (the
messenger): bolt's own way of injecting dependencies. A stranger is answered
here, once, with how to ask for access, and no listener runs for them.
"""
from __future__ import annotations

import logging

from slack_bolt.response import BoltResponse

from adapters.slack import home
from adapters.slack.blocks import escape
from adapters.slack.members import Profiles, resolve
from core.infra.outbox import DeliveryError
from core.presentation.i18n import N_, gettext_for
from core.presentation.messages import Message

log = logging.getLogger(__name__)

NOT_A_MEMBER = N_("Sorry, I only work for the members of this team. Ask your admin to add you to the org file "
                  "with your Slack member ID (%(id)s) or your e-mail.")
# Message subtypes people make; the rest (edits, joins, bot posts) are not for us.
PEOPLES_MESSAGES = frozenset({None, "file_share", "thread_broadcast"})


def skip_retried_events(seen):
    """Acknowledge a redelivered event without handling it again."""
    async def skip_retried_event(body, next):
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await seen.first_time(f"slack:{event_id}"):
            return BoltResponse(status=200, body="")
        return await next()
    return skip_retried_event


def resolve_members(teamflow, slack, profiles: Profiles):
    """Put the dependencies and the acting member into the context; turn strangers away."""
    async def resolve_member(body, context, client, next):
        context["teamflow"], context["slack"] = teamflow, slack
        user_id = context.user_id
        if user_id is None or not from_a_person(body):
            context["person_id"] = None
            return await next()
        member = await resolve(teamflow, client, profiles, user_id)
        context["person_id"] = member.person_id
        if member.person_id is None:
            return await turn_away(body, slack, user_id, gettext_for(member.lang)(NOT_A_MEMBER, id=user_id))
        return await next()
    return resolve_member


def from_a_person(body: dict) -> bool:
    """Not a bot's post, an edit or a join: something a person did."""
    event = body.get("event") or {}
    if event.get("type") != "message":
        return True
    return event.get("subtype") in PEOPLES_MESSAGES and not event.get("bot_id")


async def turn_away(body: dict, slack, user_id: str, text: str) -> BoltResponse:
    """One polite answer that only the stranger sees; nothing of the team's is shown."""
    if "command" in body:  # a slash command: the answer rides on the acknowledgement
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": escape(text)})
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    event = body.get("event") or {}
    try:
        if body.get("type") == "block_actions" and channel:
            await slack.ephemeral(channel, user_id, Message(text))
        elif event.get("type") == "app_home_opened":
            await slack.publish_home(user_id, home.stranger_view(text))
        elif event.get("channel_type") == "im" and not event.get("thread_ts"):
            await slack.send_to_chat(event["channel"], Message(text))
    except DeliveryError as exc:  # the stranger goes unanswered; the request is still acknowledged
        log.warning("could not answer stranger %s: %s", user_id, exc)
    return BoltResponse(status=200, body="")
