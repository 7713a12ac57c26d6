"""Deciding a request's step in chat: approve, reject, ack, complete, decide, /approvals, /withdraw.

Done on a work step asks the step's fields that are still empty first (as a
draft, filled like a form: core/chat/form_dialogs.py); when the route came
back to the step, or on rework, it asks them all again, each keeping its value.
"""
from __future__ import annotations

from dataclasses import replace

from core import forms as engine
from sqlmodel import select

from core.chat.form_dialogs import HEADLINES, REPEATED, _ask_next, request_card
from core.domain.clock import to_db
from core.domain.errors import BadInput
from core.domain.models import FormDraft, RequestStep
from core.forms import request_cards
from core.forms.request_cards import step_label
from core.forms.requests import complete_prepared, fills, reached_stage, step_values
from core.forms.route import REWORK, prepare
from core.forms.values import is_empty, locked_at, required_at, start_fields, visible
from core.presentation.i18n import N_
from core.presentation.messages import Message
from core.presentation.views import when
from core.services import commands as c

NEEDS_ID = N_("Give the request number: /%(name)s 42")
REASON_NEEDED = N_("Say why you reject it, like: /reject %(id)s the amount is over budget")
OUTCOME_NEEDED = N_("Say which way: /decide %(id)s <outcome>")
STEP_FIELDS = N_("To finish your step on #%(id)s, fill these in first (/cancel stops):")
STEP_AGAIN = N_("#%(id)s came back to your step: go through its fields again; /skip keeps an answer as it is "
                "(/cancel stops):")
REWORK_FIELDS = N_("Change what is needed in #%(id)s, then send it again; /skip keeps an answer as it is "
                   "(/cancel stops):")
WITHDRAWN = N_("Request #%(id)s is withdrawn.")
STEP_VERBS = {"approve": c.ApproveStep, "reject": c.RejectStep, "ack": c.AcknowledgeStep,
              "complete": c.CompleteStep, "decide": c.ChooseOutcome}


def _approvals(chat, session, reader, cmd):
    waiting = engine.pending_for(session, reader.person.id)
    rows, buttons = [], []
    for p in waiting:
        rows.append({"id": p.task_id, "title": p.title, "form": p.form.title.text(reader.lang),
                     "step": step_label(p.form, p.row.step_key, reader.lang),
                     "since": when(p.since, reader), "due": when(p.due_at, reader)})
        for row in request_cards.pending_buttons(session, p, reader):
            keys = [replace(b, label=f"#{p.task_id} {b.label}") for b in row
                    if not isinstance(b.command, c.CommentTask)]
            if keys:
                buttons.append(keys)
    return Message(text=chat.render("approvals", reader, rows=rows), buttons=buttons, kind="list")


def _step(chat, session, reader, cmd: c.StepCommand):
    """A decision on a request's step, typed or tapped."""
    me, now, comment = reader.person.id, chat.clock(), cmd.comment or None
    if isinstance(cmd, c.ApproveStep):
        out = engine.approve(session, me, cmd.task_id, now=now, step_id=cmd.step_id, comment=comment)
    elif isinstance(cmd, c.RejectStep):
        if not comment:
            raise BadInput(REASON_NEEDED, id=cmd.task_id)
        out = engine.reject(session, me, cmd.task_id, comment, now=now, step_id=cmd.step_id)
    elif isinstance(cmd, c.AcknowledgeStep):
        out = engine.acknowledge(session, me, cmd.task_id, now=now, step_id=cmd.step_id, comment=comment)
    elif isinstance(cmd, c.CompleteStep):
        walk, row, assignee = prepare(session, me, cmd.task_id, cmd.step_id, ("work", REWORK), now)
        asks = done_questions(session, walk, row, assignee)
        if asks:
            return _begin_step(chat, session, reader, walk.form, cmd.task_id, row.id, *asks)
        out = complete_prepared(walk, row, assignee, comment=comment, tz=reader.tz)  # found once, above
    else:
        if not cmd.outcome:
            raise BadInput(OUTCOME_NEEDED, id=cmd.task_id)
        out = engine.choose(session, me, cmd.task_id, cmd.outcome, now=now, step_id=cmd.step_id, comment=comment)
    msgid = HEADLINES[VERB_OF[type(cmd)]] if out.changed else REPEATED
    return request_card(chat, session, out.task, reader, chat._headline(reader, msgid, id=out.task.id), out.walk)


VERB_OF = {kind: verb for verb, kind in STEP_VERBS.items()}


def _still_empty(form, step, current: dict) -> list[str]:
    """The fields a work step needs that are still empty, in the form's order."""
    stage = form.index(step.id)
    return [f.id for f in form.fields if f.id in fills(form, step) and required_at(form, f, stage)
            and visible(f, current) and is_empty(current.get(f.id))]


def done_questions(session, walk, row: RequestStep, assignee):
    """What Done asks before the step is done: (field ids, the values they start from, the headline),
    or None when it asks nothing; `walk, row, assignee` are the step as `prepare` found it.

    A work step asks its required fields still empty (files attached since it opened count). One the route
    came back to (an earlier instance of it was done: `on_reject: <step>`) asks all its fields again, each
    showing its value, which /skip keeps. A rework step asks the form's fields again the same way, so the
    author changes what the rejection was about before the request goes round again."""
    if assignee.state == "decided":
        return None
    form = walk.form
    current = step_values(session, form, row, walk.request, walk.task)
    if row.kind == REWORK:
        stage = reached_stage(session, form, walk.request)
        asks = [f.id for f in start_fields(form) if not locked_at(form, f, stage)]
        return (asks, current, REWORK_FIELDS) if asks else None
    step = form.step(row.step_key)
    if step is None:
        return None
    if _came_back(session, row):
        asks, msgid = [f.id for f in form.fields if f.id in fills(form, step) and visible(f, current)], STEP_AGAIN
    else:
        asks, msgid = _still_empty(form, step, current), STEP_FIELDS
    return (asks, current, msgid) if asks else None


def _came_back(session, row: RequestStep) -> bool:
    """Is this step instance the route coming back to a step done before in this request?"""
    return session.exec(select(RequestStep.id).where(
        RequestStep.request_id == row.request_id, RequestStep.step_key == row.step_key,
        RequestStep.level == row.level, RequestStep.id < row.id, RequestStep.state == "done")).first() is not None


def _begin_step(chat, session, reader, form, task_id: int, step_id: int, asks: list[str], values: dict,
                msgid: str) -> Message:
    draft = session.get(FormDraft, reader.person.id)
    if draft is None:
        draft = FormDraft(person_id=reader.person.id, form_id=form.id, updated_at=to_db(chat.clock()))
    draft.form_id, draft.task_id, draft.step_id, draft.asks = form.id, task_id, step_id, list(asks)
    # The draft starts from the request's values: show_if reads them, and /skip keeps what a field has.
    draft.values, draft.answered, draft.updated_at = dict(values), [], to_db(chat.clock())
    session.add(draft)
    headline = chat._headline(reader, msgid, id=task_id)
    return _ask_next(chat, session, reader, form, draft, headline)


def read_withdraw(uow, args: str) -> c.WithdrawRequest:
    found = engine.read_action(args)
    if found is None:
        raise BadInput(NEEDS_ID, name="withdraw")
    return c.WithdrawRequest(found.task_id)


def _withdraw(chat, session, reader, cmd: c.WithdrawRequest):
    """`/withdraw 42`: the author (or an admin) takes back a request still on its way."""
    out = engine.cancel(session, reader.person.id, cmd.task_id, now=chat.clock())
    return request_card(chat, session, out.task, reader, chat._headline(reader, WITHDRAWN, id=out.task.id))
