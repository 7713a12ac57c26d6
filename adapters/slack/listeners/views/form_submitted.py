"""A form's modal submitted: field errors in place, a follow-up view, or the request is sent.

The answer must ride on the acknowledgement (Slack shows the errors or swaps
the view from it), so the core reads the answers before the ack: one short
transaction on a database thread (core/infra/offloop.py), the loop free meanwhile,
well within Slack's 3 seconds. Bolt's lazy listeners would not do: the errors
are the ack itself. The request's card then goes to the author's DM with the
bot, where its buttons and thread work like any card.
"""
from __future__ import annotations

from adapters.slack import form_modal
from adapters.slack.replies import post_to_dm
from core.chat.form_sheets import SheetResult, submit_sheet
from core.infra.offloop import off_loop


async def on_form_submit(ack, body, view, context) -> None:
    teamflow, slack, person_id = context["teamflow"], context["slack"], context["person_id"]
    result, answer = await off_loop(submitted, teamflow.chat, person_id, view)
    await ack(**answer)
    if not answer:
        await post_to_dm(slack, body["user"]["id"], result.card, person_id)


def submitted(chat, person_id: int, view: dict) -> tuple[SheetResult, dict]:
    """Submit the sheet; the ack's arguments: errors, the follow-up view, or none (sent)."""
    form_id, task_id, channel = form_modal.metadata(view)
    result = SheetResult() if form_id is None else \
        submit_sheet(chat, person_id, form_id, task_id, form_modal.answers(view), "slack")
    refused = form_modal.refused(view, result, chat.stale_button(person_id) if form_id is None else None)
    if refused is not None:
        return result, refused
    if result.follow_up is not None:
        say = lambda msgid, **kw: chat.say(person_id, msgid, **kw)  # noqa: E731
        return result, {"response_action": "update", "view": form_modal.form_view(say, result.follow_up,
                                                                                  channel=channel)}
    return result, {}
