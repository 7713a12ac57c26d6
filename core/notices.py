"""Rendering outbox rows for their recipient: fresh task state, their language and zone."""
from __future__ import annotations

from sqlmodel import Session

from core.clock import Clock
from core.messages import Message
from core.models import Outbox, Person, Task, TaskEvent
from core.people import Defaults, language_of, timezone_of
from core.render import Templates
from core.views import Reader, card_buttons, event_view, task_view


class NoticeRenderer:
    """Turns an outbox row into a Message for one person on one platform."""

    def __init__(self, templates: Templates, defaults: Defaults, clock: Clock) -> None:
        self.templates, self.defaults, self.clock = templates, defaults, clock

    def notice(self, session: Session, row: Outbox, person: Person, platform: str) -> Message:
        reader = Reader(person, language_of(person, self.defaults), timezone_of(person, self.defaults), platform)
        task = session.get(Task, row.task_id) if row.task_id else None
        context = {"t": task_view(session, task, reader, self.clock()) if task else None, "headline": "", "history": None}
        if row.template == "task_event":
            event = session.get(TaskEvent, row.context["event_id"])
            context["event"] = event_view(session, event, reader)
            text = self.templates.render("event", reader.lang, platform, **context)
        elif row.template == "card_update":
            text = self.templates.render("card", reader.lang, platform, **context)
        else:
            text = self.templates.render(row.template, reader.lang, platform, **context, **row.context)
        buttons = card_buttons(task, reader) if task else []
        return Message(text=text, buttons=buttons, task_id=task.id if task else None, kind=row.template)
