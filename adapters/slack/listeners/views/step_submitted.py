"""A work step's modal submitted: field errors in place, or the step is done and the card redrawn."""
from __future__ import annotations

from adapters.slack import form_modal
from adapters.slack.replies import Origin, post_to_dm, redraw
from core.chat_sheets import SheetResult, submit_step_sheet


async def on_step_submit(ack, body, view, context) -> None:
    teamflow, slack, person_id = context["teamflow"], context["slack"], context["person_id"]
    task_id, step_arg, origin = form_modal.step_metadata(view)
    result = SheetResult() if task_id is None else \
        submit_step_sheet(teamflow.chat, person_id, task_id, step_arg, form_modal.answers(view), "slack")
    refused = form_modal.refused(view, result, teamflow.chat.stale_button(person_id) if task_id is None else None)
    if refused is not None:
        await ack(**refused)
        return
    await ack()
    user_id = body["user"]["id"]
    if not await redraw(teamflow, slack, Origin.from_metadata(origin), person_id, user_id, task_id, result.card):
        await post_to_dm(slack, user_id, result.card, person_id)
