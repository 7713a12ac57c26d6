"""Rendering request notices for their reader: the step's card with its buttons, updates, redraws.

`core.presentation.notices.NoticeRenderer` hands every outbox row here first; rows about a
request (and redraws or events of a request's task) come back as a Message,
anything else as None. Rendering reads the state at sending time, so a card
sent after its step was decided carries no buttons.
"""
from __future__ import annotations

from sqlmodel import Session

from core.domain.models import FormRequest, Outbox, RequestStep, Task, TaskEvent
from core.forms.buttons import step_buttons
from core.forms.history import Walk
from core.forms.records import OPEN_STATES, StepPeople, current_people, form_of, request_of_task
from core.forms.views import Pending, request_view, step_label
from core.presentation.i18n import gettext_for
from core.presentation.messages import Button, Message
from core.presentation.render import headed
from core.presentation.views import Reader, event_view, facts_of
from core.services.commands import CommentTask

TEMPLATES = ("approval_request", "request_update")
REDRAWS = ("card_update", "task_event")


def render(renderer, session: Session, row: Outbox, reader: Reader) -> Message | None:
    """A request's notice for this reader, or None when the row is not about a request."""
    task = session.get(Task, row.task_id) if row.task_id else None
    if task is None or (row.template not in TEMPLATES and row.template not in REDRAWS):
        return None
    if not facts_of(session, task).request:  # known from the page a delivery batch loaded
        return None
    request = request_of_task(session, task.id)
    if request is None:
        return None
    context = {"headline": "", "over": False, "reason": row.context.get("reason"), "what": row.context.get("what"),
               "text": (row.context.get("text") or {}).get(reader.lang) or (row.context.get("text") or {}).get("en"),
               "problem": row.context.get("reason"), "event": None, "step_label": None}
    if row.template == "task_event":
        context["event"] = event_view(session, session.get(TaskEvent, row.context["event_id"]), reader)
    if row.template == "approval_request":
        step_row = session.get(RequestStep, row.context["step_id"])
        context["step_label"] = step_label(form_of(session, request), step_row.step_key, reader.lang)
        context["kind"] = step_row.kind
        context["over"] = step_row.state not in OPEN_STATES  # sent late: the step was decided meanwhile
    name = row.template if row.template in TEMPLATES else "request_event"
    return card(renderer, session, task, reader, name, message_kind=row.template, request=request, **context)


def card(renderer, session: Session, task: Task, reader: Reader, template: str = "request_card",
         message_kind: str = "card", request: FormRequest | None = None, walk: Walk | None = None,
         **context) -> Message:
    """A request's card (or a notice built around it) with the buttons this reader may use now.
    `walk`: the move just made on it, whose request and current step (with its people) are reused."""
    headline = context.pop("headline", "") if template == "request_card" else ""
    context.setdefault("headline", "")
    context.setdefault("kind", None)
    if walk is not None:
        request = walk.request
    elif request is None:
        request = request_of_task(session, task.id)
    current = current_people(session, request, walk.current if walk is not None else None) if request else None
    view = request_view(session, task, reader, renderer.clock(), request, current)
    text = renderer.templates.render(template, reader.lang, reader.platform, r=view, **context)
    found = buttons(session, task, reader, request, current)
    # A card for a tap: the same text is the redraw of the tapped copy (without the headline), rendered once.
    redraw = Message(text=text, buttons=found, task_id=task.id, kind=message_kind) if not context.get("history") else None
    return Message(text=headed(headline, text, reader.platform), buttons=found, task_id=task.id, kind=message_kind,
                   redraw=redraw)


def buttons(session: Session, task: Task, reader: Reader, request: FormRequest | None = None,
            current: StepPeople | None = None) -> list[list[Button]]:
    """The current step's buttons if it waits for this reader, else just Comment. `current`: the
    request's current step with its people, when the caller has read it (else it is read here)."""
    request = request if request is not None else request_of_task(session, task.id)
    current = current_people(session, request, current) if request else None
    found = []
    if current is not None and reader.person is not None:
        found = step_buttons(session, task.id, current.row, form_of(session, request).step(current.row.step_key),
                             current.assignees.get(reader.person.id), request.author_id, reader.lang)
    return found or [[Button(gettext_for(reader.lang)("Comment"), CommentTask(task.id))]]


def pending_buttons(session: Session, pending: Pending, reader: Reader) -> list[list[Button]]:
    """The buttons of a step waiting for this reader, from what `pending_for` read: /approvals draws
    a row per step without reading each request again."""
    return step_buttons(session, pending.task_id, pending.row, pending.step, pending.assignee,
                        pending.request.author_id, reader.lang)


def is_request(session: Session, task_id: int) -> bool:
    return request_of_task(session, task_id) is not None


