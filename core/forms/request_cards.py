"""What a reader sees of requests: a stored value in their language, a request's card with
the buttons this reader may use, what waits for a person (/approvals), request notices.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal
from sqlmodel import Session, select

from core.domain.clock import from_db, zone
from core.domain.models import FormRequest, Outbox, Person, RequestStep, StepAssignee, StepDecision, Task, TaskEvent
from core.forms.records import (
    OPEN_STATES, StepPeople, Walk, current_people, form_of, has_level, member, request_of_task,
)
from core.forms.schema import END, UP, Field, Form, Step, holds
from core.presentation.i18n import N_, gettext_for
from core.presentation.messages import Button, Message
from core.presentation.render import headed
from core.presentation.views import Reader, event_view, facts_of, when
from core.services import commands as c
from core.services.commands import CommentTask


# A stored value as a reader sees it: in their language, zone and number format.
#
# A stored value is shown whatever it holds: one this build cannot read (a draft
# from an older build, a row edited by hand) is shown as plain text, never raised.

log = logging.getLogger(__name__)
YES, NO = N_("yes"), N_("no")


def show(session: Session, field: Field, value, lang: str, tz: str) -> str:
    """One value as text; a table is one line per row."""
    if value is None or value == "" or value == []:
        return "—"
    try:
        return _show(session, field, value, lang, tz)
    except Exception as exc:  # noqa: BLE001 - one odd value must not take a whole card or summary down
        log.warning("field %s: stored value shown as plain text (%s: %s)", field.id, type(exc).__name__, exc)
        return plain(value)


def _show(session: Session, field: Field, value, lang: str, tz: str) -> str:
    kind = field.type
    if kind == "number":
        return _number(value, lang)
    if kind == "money":
        return f"{_number(value['amount'], lang)} {value['currency']}"
    if kind == "date":
        return format_date(date.fromisoformat(value), "d MMM y", locale=lang)
    if kind == "datetime":
        return format_datetime(datetime.fromisoformat(value), "d MMM y, HH:mm", tzinfo=zone(tz), locale=lang)
    if kind == "period":
        return " – ".join(format_date(date.fromisoformat(value[k]), "d MMM y", locale=lang) for k in ("from", "to"))
    if kind in ("choice", "multi_choice"):
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(o.label.text(lang) if (o := field.option(v)) else plain(v) for v in chosen)
    if kind == "yes_no":
        return gettext_for(lang)(YES if value else NO)
    if kind == "person":
        return ", ".join(_person(session, h) for h in (value if isinstance(value, list) else [value]))
    if kind == "file":
        return ", ".join(item.get("name") or item.get("file_id", "")[:20] for item in value)
    if kind == "table":
        return "\n".join(" · ".join(show(session, c, row.get(c.id), lang, tz) for c in field.columns) for row in value)
    if kind == "task":
        return f"#{value}"
    return plain(value)


def _number(value, lang: str) -> str:
    """Every digit that was accepted (babel would round to three places)."""
    if isinstance(value, bool):
        raise TypeError("a yes/no where a number was stored")
    return format_decimal(Decimal(str(value)), locale=lang, decimal_quantization=False)


def _person(session: Session, handle) -> str:
    """A member's name; a handle not (or no longer) in the org as @handle."""
    found = member(session, handle) if isinstance(handle, str) else None  # only text reaches the database
    return found.name if found else f"@{plain(handle)}"


def plain(value, depth: int = 0) -> str:
    """Any stored JSON as readable text: lists joined with commas, a mapping's values with spaces."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and depth < 3:
        return ", ".join(plain(item, depth + 1) for item in value)
    if isinstance(value, dict) and depth < 3:
        return " ".join(plain(item, depth + 1) for item in value.values())
    try:
        return str(value)
    except ValueError:  # an int too long to print (Python's digit limit)
        return "…"


def shown_fields(session: Session, fields, values: dict, lang: str, tz: str) -> list[dict]:
    """(label, text) of every filled field, in the form's order, for cards and summaries."""
    return [{"id": f.id, "label": f.label.text(lang), "value": show(session, f, values.get(f.id), lang, tz),
             "table": f.type == "table"} for f in fields if values.get(f.id) not in (None, "", [])]


# The buttons of a step's card, and reading what a typed step command names.
#
# A button's command names the step instance (and the outcome's number on a
# decide step), so a tap on an old card is refused as stale instead of deciding
# whatever step the request has reached meanwhile. Typed commands may leave the
# step out (`/approve 42 fine by me`, `/decide 42 refund`) or name it:
#
#     /approve <task> [s<step>] [comment]      /reject <task> [s<step>] <reason>
#     /ack <task> [s<step>] [comment]          /complete <task> [s<step>] [comment]
#     /decide <task> [s<step>_]<outcome> [comment]

STEP_ARG = re.compile(r"^s(\d{1,12})(?:_(\w{1,40}))?$")


@dataclass(frozen=True)
class ActionArgs:
    """`/approve 42 s17 fine` -> task 42, step 17, rest "fine"."""

    task_id: int
    step_id: int | None
    outcome: str | None
    rest: str


def read_action(args: str) -> ActionArgs | None:
    """Split a step command's arguments; None when there is no task number."""
    words = (args or "").strip().split(maxsplit=1)
    number = words[0].lstrip("#") if words else ""
    if not number.isdigit() or len(number) > 12:
        return None
    rest = words[1] if len(words) > 1 else ""
    marker = STEP_ARG.match(rest.split(maxsplit=1)[0]) if rest.strip() else None
    if marker is None:
        return ActionArgs(int(number), None, None, rest.strip())
    after = rest.split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else ""
    return ActionArgs(int(number), int(marker.group(1)), marker.group(2), after.strip())


def step_buttons(session: Session, task_id: int, row: RequestStep, step: Step | None, assignee: StepAssignee | None,
                 author_id: int, lang: str) -> list[list[Button]]:
    """What a person may tap on this step now (`assignee`: their place on it, as read with the step):
    nothing once it is over or not theirs."""
    _ = gettext_for(lang)
    if row.state != "open" or assignee is None or assignee.state != "pending":
        return []
    comment = Button(_("Comment"), c.CommentTask(task_id))
    if row.kind in ("approve", "bot") and not (step and step.outcomes):
        return [[Button(_("Approve"), c.ApproveStep(task_id, row.id)), Button(_("Reject"), c.RejectStep(task_id, row.id)),
                 comment]]
    if row.kind == "acknowledge":
        return [[Button(_("Got it"), c.AcknowledgeStep(task_id, row.id)), comment]]
    if row.kind in ("work", "rework"):
        return [[Button(_("Done"), c.CompleteStep(task_id, row.id)), comment]]
    climb = has_level(session, session.get(Person, author_id), row.level + 1)  # only a decide step asks
    choices = [Button(o.label.text(lang), c.ChooseOutcome(task_id, row.id, outcome=str(i)))
               for i, o in enumerate(step.outcomes if step else (), 1) if o.next != UP or climb]
    return [choices[i:i + 2] for i in range(0, len(choices), 2)] + [[comment]]


# What a request looks like to a reader, and what waits for a person.
#
# `request_view` gives a card everything: the form, its fields, where the request
# is on its route ("step 2 of 4 — CFO approval, waiting for Anna since 2 h") and
# every decision with its comment. `pending_for` is `/approvals`.

STATES = {"active": N_("on its way"), "rework": N_("returned for rework"), "done": N_("completed"),
          "rejected": N_("rejected"), "cancelled": N_("withdrawn")}
OUTCOMES = {"approve": N_("approved"), "reject": N_("rejected"), "ack": N_("acknowledged"), "done": N_("done")}
REWORK_LABEL = N_("Rework by the author")
BOT = N_("bot")


@dataclass(frozen=True)
class Pending:
    """One step waiting for a person: `/approvals` lists these."""

    task_id: int
    title: str
    request: FormRequest
    row: RequestStep
    form: Form
    step: Step | None
    since: datetime
    due_at: datetime | None
    assignee: StepAssignee | None = None  # the person's place on the step (their buttons need it)


def pending_for(session: Session, person_id: int) -> list[Pending]:
    """Every open step waiting for this person, oldest first."""
    rows = session.exec(
        select(StepAssignee, RequestStep, FormRequest, Task)
        .join(RequestStep, RequestStep.id == StepAssignee.step_id)
        .join(FormRequest, FormRequest.current_step_id == RequestStep.id)
        .join(Task, Task.id == FormRequest.task_id)
        .where(StepAssignee.person_id == person_id, StepAssignee.state == "pending", RequestStep.state == "open")
        .order_by(StepAssignee.since, RequestStep.id)).all()
    found = []
    for assignee, row, request, task in rows:
        form = form_of(session, request)
        found.append(Pending(task.id, task.title, request, row, form, form.step(row.step_key),
                             from_db(assignee.since), from_db(row.due_at), assignee))
    return found


def step_label(form: Form, key: str, lang: str) -> str:
    step = form.step(key)
    return step.label.text(lang) if step else gettext_for(lang)(REWORK_LABEL)


def request_view(session: Session, task: Task, reader: Reader, now: datetime,
                 request: FormRequest | None = None, known: StepPeople | None = None) -> dict | None:
    """Everything a request's card shows, for one reader; None for a plain task.
    A caller that has the task's request at hand passes it, and the step (with its people) it knows
    to be current: neither is looked up again."""
    request = request if request is not None else request_of_task(session, task.id)
    if request is None:
        return None
    form, _ = form_of(session, request), gettext_for(reader.lang)
    steps, decided = history_of(session, request)
    return {
        "id": task.id, "title": task.title, "form": form.title.text(reader.lang), "state": request.state,
        "state_label": _(STATES.get(request.state, request.state)), "problem": request.problem,
        "step": position(form, request, current_people(session, request, known), steps, reader, now),
        "fields": shown_fields(session, form.fields, request.values, reader.lang, reader.tz),
        "decisions": decisions(form, decided, reader),
    }


def history_of(session: Session, request: FormRequest) -> tuple[list[RequestStep], list[tuple]]:
    """Every step instance of a request in the order they opened, and every decision (with its step and
    who made it) oldest first: one query for both."""
    rows = session.exec(select(RequestStep, StepDecision, Person)
                        .outerjoin(StepDecision, StepDecision.step_id == RequestStep.id)
                        .outerjoin(Person, Person.id == StepDecision.person_id)  # None: a bot decided
                        .where(RequestStep.request_id == request.id).order_by(RequestStep.id)).all()
    steps = list({row.id: row for row, _d, _p in rows}.values())
    decided = sorted(((d, row, person) for row, d, person in rows if d is not None), key=lambda found: found[0].id)
    return steps, decided


def position(form: Form, request: FormRequest, current: StepPeople | None, steps: list[RequestStep],
             reader: Reader, now: datetime) -> dict | None:
    """Where the request is: step n of total, whose turn, since when, until when."""
    if current is None:
        return None
    row = current.row
    passed = {r.step_key for r in steps
              if r.round == request.round and r.state in ("approved", "done", "rejected") and r.id != row.id}
    ahead = _ahead(form, form.step(row.step_key), request.values)
    since = now - from_db(row.created_at)
    return {"index": len(passed) + 1, "total": len(passed) + 1 + len(ahead), "kind": row.kind,
            "label": step_label(form, row.step_key, reader.lang), "waiting": current.pending_names(),
            "since": format_timedelta(since, threshold=1, format="short", locale=reader.lang),
            "due": when(row.due_at, reader), "overdue": bool(row.due_at and from_db(row.due_at) <= now)}


def _ahead(form: Form, step: Step | None, values: dict) -> list[str]:
    """The steps still to come on the usual path (a decide step: its first outcome's way)."""
    found, seen = [], set()
    while step is not None and step.id not in seen:
        seen.add(step.id)
        target = step.outcomes[0].next if step.outcomes else step.next
        step = None if target == END else (form.step(target) if target and target != "up" else form.after(step))
        if step is not None and holds(step.when, values):
            found.append(step.id)
    return found


def decisions(form: Form, decided: list[tuple], reader: Reader) -> list[dict]:
    """Every decision on the request (`history_of`'s), oldest first, with its comment."""
    _ = gettext_for(reader.lang)
    found = []
    for decision, row, person in decided:
        step = form.step(row.step_key)
        chosen = step.outcome(decision.outcome) if step else None
        found.append({"step": step_label(form, row.step_key, reader.lang), "who": person.name if person else _(BOT),
                      "at": when(decision.at, reader), "comment": decision.comment,
                      "outcome": chosen.label.text(reader.lang) if chosen else _(OUTCOMES.get(decision.outcome,
                                                                                             decision.outcome))})
    return found


# Rendering request notices for their reader: the step's card with its buttons, updates, redraws.
#
# `core.presentation.notices.NoticeRenderer` hands every outbox row here first; rows about a
# request (and redraws or events of a request's task) come back as a Message,
# anything else as None. Rendering reads the state at sending time, so a card
# sent after its step was decided carries no buttons.

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
