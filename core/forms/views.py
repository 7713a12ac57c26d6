"""What a request looks like to a reader, and what waits for a person.

`request_view` gives a card everything: the form, its fields, where the request
is on its route ("step 2 of 4 — CFO approval, waiting for Anna since 2 h") and
every decision with its comment. `pending_for` is `/approvals`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_timedelta
from sqlmodel import Session, select

from core.domain.clock import from_db
from core.domain.models import FormRequest, Person, RequestStep, StepAssignee, StepDecision, Task
from core.forms.conditions import holds
from core.forms.display import shown_fields
from core.forms.records import StepPeople, current_people, form_of, request_of_task
from core.forms.schema import END, Form, Step
from core.presentation.i18n import N_, gettext_for
from core.presentation.views import Reader, when

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
