"""A work step's modal submitted: field errors in place, or the step is done and the card redrawn.

As with a form, the errors ride on the acknowledgement, so the core reads the
answers before the ack, on a database thread (core/infra/offloop.py)."""
from __future__ import annotations

from adapters.slack import form_modal
from adapters.slack.replies import Origin, post_to_dm, redraw
from core.chat.form_sheets import SheetResult, submit_step_sheet
from core.infra.offloop import off_loop


async def on_step_submit(ack, body, view, context) -> None:
    teamflow, slack, person_id = context["teamflow"], context["slack"], context["person_id"]
    task_id, _step_arg, origin = form_modal.step_metadata(view)
    result, refused = await off_loop(submitted, teamflow.chat, person_id, view)
    if refused is not None:
        await ack(**refused)
        return
    await ack()
    user_id = body["user"]["id"]
    if not await redraw(teamflow, slack, Origin.from_metadata(origin), person_id, user_id, task_id, result.card):
        await post_to_dm(slack, user_id, result.card, person_id)


def submitted(chat, person_id: int, view: dict) -> tuple[SheetResult, dict | None]:
    """Submit the step's fields; the `response_action: errors` ack when nothing changed, else None."""
    task_id, step_arg, _origin = form_modal.step_metadata(view)
    result = SheetResult() if task_id is None else \
        submit_step_sheet(chat, person_id, task_id, step_arg, form_modal.answers(view), "slack")
    return result, form_modal.refused(view, result, chat.stale_button(person_id) if task_id is None else None)
