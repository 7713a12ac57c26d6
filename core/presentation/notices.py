"""Rendering outbox rows for their reader: fresh state, their language and zone.

A row for a channel (an announcement) has no reader of its own: it is
rendered in the org's language and zone.
"""
from __future__ import annotations

import json
from datetime import timedelta

from babel.dates import format_timedelta
from sqlmodel import Session

from core.domain.clock import Clock
from core.domain.models import Announcement, Outbox, Person, Task, TaskEvent
from core.forms import request_cards as form_cards
from core.presentation.i18n import gettext_for
from core.presentation.messages import Button, Message
from core.presentation.render import Templates
from core.presentation.views import Reader, card_buttons, event_view, task_view, task_views, when
from core.services import announcements, queries
from core.services import commands as c
from core.services.people import Defaults, language_of, timezone_of


def time_left(kind: str, lang: str) -> str:
    """'before:86400' -> "1 day" / "1 день" (Babel), for "due in …"."""
    if not kind.startswith("before:"):
        return ""
    return format_timedelta(timedelta(seconds=int(kind.split(":", 1)[1])), locale=lang, threshold=1)


class NoticeRenderer:
    """Turns an outbox row into a Message for one reader on one platform."""

    def __init__(self, templates: Templates, defaults: Defaults, clock: Clock) -> None:
        self.templates, self.defaults, self.clock = templates, defaults, clock

    def reader(self, person: Person | None, platform: str) -> Reader:
        if person is None:
            return Reader(None, self.defaults.language, self.defaults.timezone, platform)
        return Reader(person, language_of(person, self.defaults), timezone_of(person, self.defaults), platform)

    def notice(self, session: Session, row: Outbox, person: Person | None, platform: str) -> Message:
        reader = self.reader(person, platform)
        request_notice = form_cards.render(self, session, row, reader)  # a form request's card, step or update
        if request_notice is not None:
            return request_notice
        if row.template in ("announcement", "announcement_update"):
            return self.announcement(session, session.get(Announcement, row.context["announcement_id"]), reader)
        if row.template == "digest":
            return self.digest(session, person, reader)
        if row.template == "delivery_failed":
            who = session.get(Person, row.context["recipient_id"]) if row.context.get("recipient_id") else None
            text = self.templates.render("delivery_failed", reader.lang, platform, reason=row.context["reason"],
                                         who=who.name if who else None, where=row.context.get("where"),
                                         task_id=row.task_id)
            return Message(text=text, kind="delivery_failed")
        task = session.get(Task, row.task_id) if row.task_id else None
        context = {"t": task_view(session, task, reader, self.clock()) if task else None, "headline": "", "history": None}
        name = {"task_event": "event", "card_update": "card"}.get(row.template, row.template)
        if row.template == "task_event":
            context["event"] = event_view(session, session.get(TaskEvent, row.context["event_id"]), reader)
        else:
            context.update({k: v for k, v in row.context.items() if k not in context})
        if row.template == "reminder":
            context["left"] = time_left(row.context.get("kind", ""), reader.lang)
        text = self.templates.render(name, reader.lang, platform, **context)
        buttons = card_buttons(task, reader) if task else []
        return Message(text=text, buttons=buttons, task_id=task.id if task else None, kind=row.template)

    def digest(self, session: Session, person: Person, reader: Reader) -> Message:
        """The morning digest, from the state at the time it is sent."""
        now = self.clock()
        mine = queries.list_tasks(session, person.id, "mine", now=now)
        views = task_views(session, mine, reader, now)
        waiting = [{"id": p.task_id, "title": p.title} for p in form_cards.pending_for(session, person.id)]
        text = self.templates.render("digest", reader.lang, reader.platform, tasks=views, approvals=waiting,
                                     overdue=sum(1 for v in views if v["overdue"]), name=person.name)
        return Message(text=text, kind="digest")

    def announcement(self, session: Session, announcement: Announcement, reader: Reader) -> Message:
        """A copy of an announcement: live counts and names; no buttons once closed."""
        view = announcements.view(session, announcement)
        view["post_at"] = when(view["post_at"], reader)
        if view["kind"] == "form":  # a form's completion post holds its text in every language
            texts = json.loads(view["text"])
            view["text"] = texts.get(reader.lang) or texts.get("en") or ""
        text = self.templates.render("announcement", reader.lang, reader.platform, a=view)
        _ = gettext_for(reader.lang)
        buttons = [] if view["closed"] or view["kind"] != "rsvp" else [[
            Button(_("I'm in"), c.Rsvp(announcement.id, "in")), Button(_("Can't make it"), c.Rsvp(announcement.id, "out")),
            Button(_("Close"), c.CloseAnnouncement(announcement.id)),
        ]]
        return Message(text=text, buttons=buttons, kind="announcement", announcement_id=announcement.id)
