"""A comment or a snooze time typed into the modal: done, or a field error to fix.

The answer must ride on the acknowledgement (Slack closes the modal or shows
the error from it), so the core runs before the ack: one short transaction on
a database thread (core/offloop.py), the loop free meanwhile, well within
Slack's 3 seconds. The card is redrawn after the ack.
"""
from __future__ import annotations

from adapters.slack.form_modal import ERROR_LIMIT
from adapters.slack.mentions import plain_text
from adapters.slack.modals import INPUT_BLOCK, submitted
from adapters.slack.replies import Origin, redraw
from core.messages import Message
from core.offloop import off_loop


async def on_submit(ack, body, view, context) -> None:
    teamflow, slack, person_id = context["teamflow"], context["slack"], context["person_id"]
    button, text, meta = submitted(view)
    answer = await off_loop(run, teamflow, person_id, button, text)
    if answer.kind == "refusal":
        await ack(response_action="errors", errors={INPUT_BLOCK: answer.text[:ERROR_LIMIT]})
        return
    await ack()
    await redraw(teamflow, slack, Origin.from_metadata(meta), person_id, body["user"]["id"], button.task_id, answer)


def run(teamflow, person_id: int, button, text: str) -> Message:
    """The tapped action with the typed words; a refusal for metadata we never wrote."""
    command = button.prompt_command(plain_text(teamflow, text)) if button else None
    if command is None:
        return Message(teamflow.chat.stale_button(person_id), kind="refusal")
    return teamflow.chat.handle(person_id, command, "slack")
