"""Modals for what a tap cannot say alone: a comment's text, a custom snooze time, a reject reason.

The modal carries the tapped button (packed, never trusted) and where the
card was, so the submission can redraw it. A refusal comes back as a field
error (`response_action: errors`) and the modal stays open to fix it.
"""
from __future__ import annotations

from adapters.slack.form_modal import modal, read_metadata
from adapters.slack.values import pack, unpack
from core.presentation.i18n import N_
from core.presentation.messages import Button
from core.services.commands import Command, CommentTask, RejectStep, SnoozeTask

CALLBACK_ID = "tf.prompt"
INPUT_BLOCK = "tf-input"
INPUT_ACTION = "value"
TEXT_LIMIT = 2000
MAX_LENGTH = {CommentTask: 4000, RejectStep: 2000}  # what the core keeps of each
TITLES = {CommentTask: N_("Comment"), SnoozeTask: N_("Snooze"), RejectStep: N_("Reject")}
LABELS = {CommentTask: N_("Your comment on #%(id)s"), SnoozeTask: N_("Until when should I snooze #%(id)s?"),
          RejectStep: N_("Why do you reject #%(id)s?")}
HINTS = {SnoozeTask: N_("For example: in 3 hours, tomorrow 10:00, friday, завтра в 10:00")}
SUBMIT = N_("Save")


def plain(text: str, limit: int = TEXT_LIMIT) -> dict:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def prompt_modal(chat, person_id: int, command: Command, origin: dict) -> dict:
    """The modal asking for what the tapped button's command needs, in the person's language."""
    def say(msgid: str, **params) -> str:
        return chat.say(person_id, msgid, **params)

    kind = type(command)
    element = {"type": "plain_text_input", "action_id": INPUT_ACTION, "multiline": kind in MAX_LENGTH}
    if kind in MAX_LENGTH:
        element["max_length"] = MAX_LENGTH[kind]
    block = {"type": "input", "block_id": INPUT_BLOCK, "element": element,
             "label": plain(say(LABELS[kind], id=command.task_id))}
    if kind in HINTS:
        block["hint"] = plain(say(HINTS[kind]))
    return modal(say, CALLBACK_ID, {"v": pack(Button("", command)), **origin}, say(TITLES[kind]), SUBMIT, [block])


def submitted(view: dict) -> tuple[Command | None, str, dict]:
    """The tapped button's command, the typed text and the card's whereabouts from a submitted modal."""
    meta = read_metadata(view)
    field = ((view.get("state") or {}).get("values") or {}).get(INPUT_BLOCK, {}).get(INPUT_ACTION, {})
    return unpack(meta.pop("v", None)), (field.get("value") or "").strip(), meta
