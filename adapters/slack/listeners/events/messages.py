"""Messages: a reply in a card's thread is a comment and its files are attachments;
text in the DM with the bot is read like any command, and a file there answers the
question of a form (or a work step) being filled. Other chatter is not ours."""
from __future__ import annotations

from adapters.slack.mentions import plain_text
from core.infra.offloop import off_loop
from core.presentation.messages import Message


async def on_message(event, context) -> None:
    person_id = context["person_id"]
    if person_id is None:
        return  # a bot's post, an edit, a join: nothing a person said to us
    teamflow, slack = context["teamflow"], context["slack"]
    channel, thread = event["channel"], event.get("thread_ts")
    task_id = await off_loop(teamflow.chat.task_of_message, "slack", channel, thread) \
        if thread and thread != event["ts"] else None
    text = (await off_loop(plain_text, teamflow, event.get("text") or "")).strip()
    if task_id is not None:
        answers = await off_loop(on_card, teamflow.chat, person_id, task_id, event.get("files") or [], text)
        for answer in answers:
            await slack.ephemeral(channel, event["user"], answer, thread_ts=thread)
    elif event.get("channel_type") == "im" and not thread:
        for f in [f for f in event.get("files") or [] if f.get("id")]:  # a file for a form's question
            answer = await off_loop(teamflow.chat.send_file, person_id, "slack", **file_fields(f))
            await slack.answer(channel, answer, person_id)
        if text:
            await slack.answer(channel, await off_loop(teamflow.chat.handle, person_id, text, "slack"), person_id)


def on_card(chat, person_id: int, task_id: int, files: list[dict], text: str) -> list[Message]:
    """Attach every file, then comment the text (on a database thread); each answer goes to the author only."""
    answers = [chat.attach_file(person_id, task_id, "slack", **file_fields(f)) for f in files if f.get("id")]
    if text:
        answers.append(chat.reply_to_card(person_id, task_id, text, "slack"))
    return [headline(answer) for answer in answers]


def file_fields(f: dict) -> dict:
    """A Slack file object as the core takes a file."""
    return {"file_id": f["id"], "name": f.get("name"), "mime_type": f.get("mimetype"), "size": f.get("size")}


def headline(answer: Message) -> Message:
    """A refusal whole; a success by its first line ("Comment added to #1."): the card itself is redrawn."""
    if answer.kind == "refusal":
        return answer
    return Message(text=answer.text.split("\n", 1)[0], kind=answer.kind)
