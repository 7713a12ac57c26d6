"""A work step's modal submitted: field errors in place, or the step is done and the card redrawn."""
from __future__ import annotations

from adapters.slack import form_modal
from adapters.slack.replies import Origin, post_to_dm, redraw
from core.chat_sheets import submit_step_sheet


async def on_step_submit(ack, body, view, context) -> None:
    teamflow, slack, person_id = context["teamflow"], context["slack"], context["person_id"]
    task_id, step_arg, origin = form_modal.step_metadata(view)
    first = next((b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), None)
    if task_id is None:  # metadata we never wrote
        await ack(response_action="errors", errors={first: teamflow.chat.stale_button(person_id)} if first else {})
        return
    result = submit_step_sheet(teamflow.chat, person_id, task_id, step_arg, form_modal.answers(view), "slack")
    if result.errors:
        errors = form_modal.errors(result.errors)
        await ack(response_action="errors", errors={k if k != form_modal.BLOCK_PREFIX else first: v
                                                     for k, v in errors.items()})
    elif result.refusal is not None:
        await ack(response_action="errors", errors={first: result.refusal.text[:500]} if first else {})
    else:
        await ack()
        user_id = body["user"]["id"]
        if not await redraw(teamflow, slack, Origin.from_metadata(origin), person_id, user_id, task_id):
            await post_to_dm(slack, user_id, result.card, person_id)
