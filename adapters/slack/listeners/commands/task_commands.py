"""`/task …`, `/done 42`, …: acknowledged at once, then answered by the chat core.

The ack comes first, before any database work, so Slack hears back within
its 3 seconds however busy the store is; the core then runs on a database
thread (core/infra/offloop.py) and the answer follows by response_url or the
messenger. `/form <name> [#task]` and `/escalate [problem]` open the form as a
modal instead (straight after the ack, while the trigger_id is fresh);
`/form` alone lists the forms like everywhere else.
"""
from __future__ import annotations

from adapters.slack import form_modal
from adapters.slack.mentions import plain_text
from adapters.slack.replies import answer_command
from core.chat.form_dialogs import ESCALATION, FORM_ARGS
from core.chat.form_sheets import open_sheet
from core.infra.offloop import off_loop
from core.presentation.messages import Message


async def on_command(ack, command, context, respond) -> None:
    """The command and its text, as typed, go to `Chat.handle`; the answer goes back where it fits."""
    await ack()
    teamflow, person_id = context["teamflow"], context["person_id"]
    args = (await off_loop(plain_text, teamflow, command.get("text") or "")).strip()
    if await open_form(command, args, context, respond):
        return
    answer = await off_loop(teamflow.chat.handle, person_id, f"{command['command']} {args}".strip(), "slack")
    await answer_command(context["slack"], respond, command, answer, person_id)


async def open_form(command: dict, args: str, context, respond) -> bool:
    """`/form <name>` and `/escalate`: a modal (or the refusal); False when it is not such a command."""
    name, initial, task_id = None, None, None
    if command["command"] == "/escalate":
        name, initial = ESCALATION, ({"problem": args} if args else None)
    elif command["command"] == "/form" and args:
        found = FORM_ARGS.match(args)
        name = found.group(1) if found else args
        task_id = int(found.group(2)) if found and found.group(2) else None
    if name is None or not command.get("trigger_id"):
        return False
    teamflow, person_id, slack = context["teamflow"], context["person_id"], context["slack"]
    view = await off_loop(form_view, teamflow.chat, person_id, name, task_id, initial, command.get("channel_id"))
    if isinstance(view, Message):
        await answer_command(slack, respond, command, view, person_id)
        return True
    await slack.open_modal(command["trigger_id"], view)
    return True


def form_view(chat, person_id: int, name: str, task_id: int | None, initial: dict | None,
              channel: str | None) -> dict | Message:
    """The form's modal, or the refusal (one unit of work on a database thread)."""
    sheet = open_sheet(chat, person_id, name, "slack", task_id=task_id, initial=initial)
    if isinstance(sheet, Message):
        return sheet
    say = lambda msgid, **kw: chat.say(person_id, msgid, **kw)  # noqa: E731
    return form_modal.form_view(say, sheet, channel=channel)
