"""A comment or a snooze time typed into the modal: done, or a field error to fix.

The answer must ride on the acknowledgement (Slack closes the modal or shows
the error from it), so the core runs before the ack; it is one short
transaction, well within Slack's 3 seconds.
"""
from __future__ import annotations

from adapters.slack.form_modal import ERROR_LIMIT
from adapters.slack.mentions import plain_text
from adapters.slack.modals import INPUT_BLOCK, submitted
from adapters.slack.replies import Origin, redraw
from core.commands import asks
from core.taps import answered


async def on_submit(ack, body, view, context) -> None:
    teamflow, slack, person_id = context["teamflow"], context["slack"], context["person_id"]
    tapped, text, meta = submitted(view)
    if tapped is None or asks(tapped) is None:  # metadata we never wrote
        await ack(response_action="errors", errors={INPUT_BLOCK: teamflow.chat.stale_button(person_id)})
        return
    answer = teamflow.chat.tap(person_id, answered(tapped, plain_text(teamflow, text)), "slack")
    if answer.kind == "refusal":
        await ack(response_action="errors", errors={INPUT_BLOCK: answer.text[:ERROR_LIMIT]})
        return
    await ack()
    await redraw(teamflow, slack, Origin.from_metadata(meta), person_id, body["user"]["id"], tapped.task_id, answer)
