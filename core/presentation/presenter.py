"""What a reader is shown: a task's card, a page from a template, a headline.

The handlers of commands (core/services/task_handlers.py, core/chat/form_dialogs.py) answer
with these; the outbox's renderer draws notices the same way.
"""
from __future__ import annotations

from sqlmodel import Session

from core.domain.clock import Clock
from core.forms import request_cards as form_cards
from core.presentation.i18n import gettext_for
from core.presentation.messages import Message
from core.presentation.render import Templates, headed
from core.presentation.views import Facts, Reader, card_buttons, history_view, page, task_view


class Presenter:
    """Templates and the clock, for drawing answers in a reader's language and platform."""

    def __init__(self, templates: Templates, clock: Clock) -> None:
        self.templates, self.clock = templates, clock

    def render(self, template_name: str, reader: Reader, **ctx) -> str:
        """A template for this reader's language and platform."""
        return self.templates.render(template_name, reader.lang, reader.platform, **ctx)

    def headline(self, reader: Reader, msgid: str, **params) -> str:
        """One sentence in the reader's language."""
        return gettext_for(reader.lang)(msgid, **params)

    def card(self, session: Session, task, reader: Reader, headline: str = "", history: bool = False,
             facts: Facts | None = None) -> Message:
        """A task's card for this reader, with the buttons they may use; a request's shows its form and route.
        Without history it also carries itself headline-less (`redraw`), for the tapped message: rendered once.
        `facts`: what the caller knows of the task already (one it just made), so none are queried."""
        shown_history = history_view(session, task, reader) if history else None
        known = None if facts is None else {task.id: facts}
        with page(session, [task], facts=known) as loaded:  # one query tells a request's card from a task's
            if loaded.facts.get(task.id, Facts()).request:
                return form_cards.card(self, session, task, reader, headline=headline, history=shown_history)
            text = self.render("card", reader, t=task_view(session, task, reader, self.clock()), headline="",
                               history=shown_history)
        buttons = card_buttons(task, reader)
        redraw = None if history else Message(text=text, buttons=buttons, task_id=task.id, kind="card")
        return Message(text=headed(headline, text, reader.platform), buttons=buttons, task_id=task.id, kind="card",
                       redraw=redraw)
