"""Where an answer goes: the channel, only the person who acted, a redrawn card, App Home.

In a DM with the bot everything is posted; in a channel only cards are (so
the team can reply in their thread), while lists, the board, help and every
refusal are shown to the person alone.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.slack.blocks import blocks, fallback
from adapters.slack.home import home_view
from core.infra.offloop import off_loop
from core.infra.outbox import DeliveryError
from core.presentation.messages import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where a tap came from."""

    channel: str | None = None
    ts: str | None = None
    ephemeral: bool = False
    home: bool = False

    @classmethod
    def of(cls, body: dict) -> "Origin":
        container = body.get("container") or {}
        if container.get("type") == "view":
            return cls(home=(body.get("view") or {}).get("type") == "home")
        return cls(container.get("channel_id") or (body.get("channel") or {}).get("id"),
                   container.get("message_ts"), bool(container.get("is_ephemeral")))

    def metadata(self) -> dict:
        """What a modal keeps of it (an ephemeral message cannot be redrawn later)."""
        if self.home:
            return {"home": True}
        return {"c": self.channel, "ts": self.ts} if self.channel and self.ts and not self.ephemeral else {}

    @classmethod
    def from_metadata(cls, meta: dict) -> "Origin":
        return cls(str(meta.get("c") or "") or None, str(meta.get("ts") or "") or None, home=bool(meta.get("home")))


async def answer_command(slack, respond, command: dict, answer: Message, person_id: int) -> None:
    """A slash command's answer: posted where it was typed, or shown to its author alone."""
    channel = command.get("channel_id", "")
    if answer.kind != "refusal" and (answer.kind == "card" or channel.startswith("D")):
        try:
            await slack.answer(channel, answer, person_id)
            return
        except DeliveryError as exc:  # not a member there, or a DM between two people
            log.info("cannot post in %s (%s): answering ephemerally", channel, exc)
    await respond(text=fallback(answer), blocks=blocks(answer), response_type="ephemeral")


async def tell(slack, body: dict, message: Message, respond=None) -> None:
    """Show something to the person who tapped, and to nobody else."""
    user, origin = body["user"]["id"], Origin.of(body)
    try:
        if origin.ephemeral and respond is not None and body.get("response_url"):
            await respond(text=fallback(message), blocks=blocks(message), response_type="ephemeral",
                          replace_original=False)
            return
        if origin.channel:
            await slack.ephemeral(origin.channel, user, message)
            return
    except DeliveryError as exc:
        log.info("cannot answer %s in place (%s): sending a DM", user, exc)
    await slack.send_to_chat(await slack.dm_channel(user), message)  # a tap on App Home, or no way in place


async def redraw(teamflow, slack, origin: Origin, person_id: int, user_id: str, task_id: int,
                 card: Message | None = None) -> bool:
    """Redraw the tapped card, or the App Home it sits on; False when there is nothing to redraw.
    `card`: the tap's answer, whose headline ("You approved #1.") is Slack's toast."""
    if origin.home:
        await slack.publish_home(user_id, await off_loop(home_view, teamflow.chat, person_id))
        return True
    if origin.ts and await off_loop(teamflow.chat.task_of_message, "slack", origin.channel, origin.ts) == task_id:
        if card is None or card.task_id != task_id:
            card = await off_loop(teamflow.chat.show_card, person_id, task_id, "slack")
        await slack.update(origin.channel, origin.ts, card)
        return True
    return False


async def post_to_dm(slack, user_id: str, message: Message, person_id: int) -> None:
    """A card for this person, in their DM with the bot (where its buttons and thread work as anywhere)."""
    try:
        await slack.answer(await slack.dm_channel(user_id), message, person_id)
    except DeliveryError as exc:  # what it reports stands; its notices go through the outbox as usual
        log.warning("could not show a card to %s: %s", user_id, exc)
