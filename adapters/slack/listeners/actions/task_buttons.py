"""A tap on a card's button: acknowledged at once, then run by the core, then the card is redrawn.

The value is never trusted: a forged or stale one, or a tap by someone who may
not, changes nothing and says why in an ephemeral message. Comment and
"Other time…" need words first: a modal opens straight after the ack, while
the trigger_id is fresh. Everything after the ack that reads or writes the
store runs on a database thread (core/infra/offloop.py).
"""
from __future__ import annotations

from adapters.slack.form_modal import step_view
from adapters.slack.modals import prompt_modal
from adapters.slack.replies import Origin, redraw, tell
from adapters.slack.values import unpack
from core.chat.form_sheets import StepSheet, open_step_sheet
from core.infra.offloop import off_loop
from core.presentation.messages import Message
from core.services.commands import CompleteStep, asks


async def on_tap(ack, body, action, context, respond) -> None:
    await ack()
    teamflow, slack, person_id = context["teamflow"], context["slack"], context["person_id"]
    command, origin = unpack(action.get("value")), Origin.of(body)
    if command is None:
        stale = await off_loop(teamflow.chat.stale_button, person_id)
        await tell(slack, body, Message(stale, kind="refusal"), respond)
        return
    if isinstance(command, CompleteStep) and await open_step(teamflow, slack, person_id, command, body, origin,
                                                             respond):
        return
    if asks(command):
        view = await off_loop(prompt_modal, teamflow.chat, person_id, command, origin.metadata())
        await slack.open_modal(body["trigger_id"], view)
        return
    answer = await off_loop(teamflow.chat.run, person_id, command, "slack")
    if answer.kind != "card":  # a refusal, or a short answer (an RSVP): for the tapper alone
        await tell(slack, body, answer, respond)
        return
    if not await redraw(teamflow, slack, origin, person_id, body["user"]["id"],
                        getattr(command, "task_id", 0), answer):
        await tell(slack, body, answer, respond)  # a tap in a list: the card, for this person only


async def open_step(teamflow, slack, person_id: int, command: CompleteStep, body: dict, origin: Origin,
                    respond) -> bool:
    """Done on a work step that fills fields opens them in a modal; False when the step fills nothing."""
    found = await off_loop(step_modal, teamflow.chat, person_id, command, origin)
    if found is None:
        return False
    if isinstance(found, Message):  # not this person's step (any more): said to them alone
        await tell(slack, body, found, respond)
        return True
    await slack.open_modal(body["trigger_id"], found)
    return True


def step_modal(chat, person_id: int, command: CompleteStep, origin: Origin) -> dict | Message | None:
    """The step's modal, a refusal, or None when the step fills nothing (on a database thread)."""
    sheet = open_step_sheet(chat, person_id, command.task_id, f"s{command.step_id}", "slack")
    if sheet is None or not isinstance(sheet, StepSheet):
        return sheet
    say = lambda msgid, **kw: chat.say(person_id, msgid, **kw)  # noqa: E731
    return step_view(say, sheet, origin.metadata())
