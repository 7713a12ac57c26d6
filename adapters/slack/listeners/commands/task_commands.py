"""`/task …`, `/done 42`, …: acknowledged at once, then answered by the chat core."""
from __future__ import annotations

from adapters.slack.mentions import plain_text
from adapters.slack.replies import answer_command


async def on_command(ack, command, context, respond) -> None:
    """The command and its text, as typed, go to `Chat.handle`; the answer goes back where it fits."""
    await ack()
    teamflow, person_id = context["teamflow"], context["person_id"]
    text = f"{command['command']} {plain_text(teamflow, command.get('text') or '')}".strip()
    answer = teamflow.chat.handle(person_id, text, "slack")
    await answer_command(context["slack"], respond, command, answer, person_id)
