"""A comment or a snooze time typed into the modal: done, or a field error to fix.

The answer must ride on the acknowledgement (Slack closes the modal or shows
the error from it), so the core runs before the ack: one short transaction on
a database thread (core/infra/offloop.py), the loop free meanwhile, well within
Slack's 3 seconds. The card is redrawn after the ack.
"""
from __future__ import annotations

from adapters.slack.form_modal import ERROR_LIMIT
from adapters.slack.mentions import plain_text
from adapters.slack.modals import INPUT_BLOCK, submitted
from adapters.slack.replies import Origin, redraw
from core.chat.taps import answered
from core.infra.offloop import off_loop
from core.presentation.messages import Message
from core.services.commands import asks


async def on_submit(ack, body, view, context) -> None:
    teamflow, slack, person_id = context["teamflow"], context["slack"], context["person_id"]
    tapped, text, meta = submitted(view)
    answer = await off_loop(run, teamflow, person_id, tapped, text)
    if answer.kind == "refusal":
        await ack(response_action="errors", errors={INPUT_BLOCK: answer.text[:ERROR_LIMIT]})
        return
    await ack()
    await redraw(teamflow, slack, Origin.from_metadata(meta), person_id, body["user"]["id"], tapped.task_id, answer)


def run(teamflow, person_id: int, tapped, text: str) -> Message:
    """The tapped command with the typed words; a refusal for metadata we never wrote."""
    if tapped is None or asks(tapped) is None:
        return Message(teamflow.chat.stale_button(person_id), kind="refusal")
    return teamflow.chat.run(person_id, answered(tapped, plain_text(teamflow, text)), "slack")
