"""Filling a form in chat: /form, /escalate, answering field by field, the summary.

The typed commands and words are wired in core/chat/form_words.py; deciding a
step and a work step's fields are core/chat/step_dialogs.py. A form is filled field by field: the draft lives in the database (one per
person), plain text from a person with an open draft answers its next field.
A choice, yes/no or person question also offers its answers as buttons
(`/pick <field position> <answer>`), and every question Skip, Back and Cancel,
the summary Send, Back and Cancel. A button names the question it was on, so
a tap on an old one changes nothing: the adapters draw them on any platform.

Done on a work step asks the step's fields that are still empty. When the
route comes back to a step (a rejection's `on_reject: <step>`), Done asks all
its fields again; on rework the author's Done asks the form's fields again.
Those drafts start from the request's values: each question shows the value,
and Skip keeps it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from core import forms as engine
from core.domain.clock import to_db
from core.domain.errors import BadInput, Forbidden
from core.domain.models import FormDraft, FormRequest, Person, RequestStep, Task
from core.forms import request_cards
from core.forms.request_cards import show
from core.forms.requests import NOT_A_STARTER, step_values
from core.forms.route import REWORK
from core.forms.values import is_empty, required_at, visible
from core.presentation.i18n import N_, gettext_for
from core.presentation.messages import Button, Message
from core.presentation.render import refusal_text
from core.presentation.views import Reader
from core.services import commands as c

NO_FORMS = N_("Forms are not set up here.")
UNKNOWN_FORM = N_("There is no form “%(name)s”. Type /form to see the forms.")
FORM_ARGS = re.compile(r"^(\S+)(?:\s+#?(\d{1,12}))?\s*$")
NOT_A_FILE = N_("This question is not about a file; answer it in words.")
NO_DRAFT = N_("You are not filling a form. Type /form to start one.")
NOT_FINISHED = N_("Some fields are still empty; answer them first.")
NOT_OPTIONAL = N_("%(field)s is required; it can't be skipped.")
NOTHING_BACK = N_("This is the first field already.")
DRAFT_DROPPED = N_("The form is cancelled; nothing was sent.")
SUBMITTED = N_("Request #%(id)s is sent.")
ATTACHED = N_("The form is attached to task #%(id)s.")
PROBLEM_NEEDED = N_("Describe the problem: /escalate the lab misses deadlines")
ESCALATION = "escalation"
REPEATED = N_("Already recorded; nothing changed.")
STALE_QUESTION = N_("That button is from a question already answered; nothing changed. Answer the last question.")
NOT_AN_ANSWER = N_("That is not an answer to this question; nothing changed.")
PICKED = N_("%(field)s: %(answer)s")
PICK_ARGS = re.compile(r"^(\d{1,9})\s+([\w-]{1,32})$")
POSITION = re.compile(r"^\d{1,9}$")
SUMMARY = 0  # the position the summary's buttons carry
PEOPLE_BUTTONS = 12  # more people than this: type a @mention, as a long list of keys helps nobody
HEADLINES = {
    "approve": N_("You approved #%(id)s."),
    "reject": N_("You rejected #%(id)s."),
    "ack": N_("You acknowledged #%(id)s."),
    "complete": N_("You completed your step on #%(id)s."),
    "decide": N_("Your decision on #%(id)s is recorded."),
}


def answer_draft(chat, session: Session, reader: Reader, text: str, file: dict | None = None) -> Message | None:
    """Plain text (or a file sent in chat) from a person filling a form answers its next field;
    None when there is no draft waiting for an answer."""
    draft = session.get(FormDraft, reader.person.id)
    if draft is None:
        return None
    form = _forms(chat).get(draft.form_id)
    field = _next_field(form, draft) if form else None
    if field is None:
        return None
    try:
        if file is not None and field.type != "file":  # (words for a file question: the file reader says so)
            raise BadInput(NOT_A_FILE)
        value = engine.read_value(_ctx(chat, session, reader), field, [file] if file is not None else text)
    except BadInput as exc:  # re-ask with what was wrong; the draft stays as it was
        error = refusal_text(exc, reader.lang, reader.platform)
        return _question_message(chat, session, reader, form, draft, field, error, kind="refusal")
    _answer(chat, draft, field.id, value)
    session.add(draft)
    return _ask_next(chat, session, reader, form, draft)


# ----- filling ----------------------------------------------------------------


def _forms(chat):
    if getattr(chat, "forms", None) is None:
        raise BadInput(NO_FORMS)
    return chat.forms


def _ctx(chat, session, reader):
    return engine.Context(session, reader.person.id, chat.clock(), reader.tz)


def _form(chat, session, reader, cmd: c.StartForm):
    """The forms this person may start, or the first question of the one named."""
    forms = _forms(chat)
    if not cmd.name:
        rows = [{"id": f.id, "title": f.title.text(reader.lang)} for f in forms.all()
                if engine.may_start(session, reader.person, f)]
        return Message(text=chat.render("form_list", reader, forms=rows), kind="text")
    form = forms.get(cmd.name.lower())
    if form is None:
        raise BadInput(UNKNOWN_FORM, name=cmd.name[:40])
    return _begin(chat, session, reader, form, {}, [], cmd.task_id)


def _escalate(chat, session, reader, cmd: c.Escalate):
    """The escalation form with its problem filled in: the next question is the one after it."""
    form = _forms(chat).get(ESCALATION)
    if form is None:
        raise BadInput(UNKNOWN_FORM, name=ESCALATION)
    value = engine.read_value(_ctx(chat, session, reader), form.field("problem"), cmd.problem)
    return _begin(chat, session, reader, form, {"problem": value}, ["problem"], None)


def _begin(chat, session, reader, form, values, answered, task_id):
    if not engine.may_start(session, reader.person, form):
        raise Forbidden(NOT_A_STARTER, form=form.title)
    draft = session.get(FormDraft, reader.person.id)
    if draft is None:
        draft = FormDraft(person_id=reader.person.id, form_id=form.id, updated_at=to_db(chat.clock()))
    draft.form_id, draft.task_id, draft.values, draft.answered = form.id, task_id, dict(values), list(answered)
    draft.step_id, draft.asks, draft.updated_at = None, None, to_db(chat.clock())
    session.add(draft)
    headline = chat._headline(reader, N_("Filling “%(form)s”. /back returns to the previous field, /cancel drops the form."),
                              form=form.title.text(reader.lang))
    return _ask_next(chat, session, reader, form, draft, headline)


def _answer(chat, draft: FormDraft, field_id: str, value) -> None:
    values = dict(draft.values)
    if value is None:
        values.pop(field_id, None)
    else:
        values[field_id] = value
    answered = [a for a in draft.answered if a != field_id] + [field_id]
    draft.values, draft.answered, draft.updated_at = values, answered, to_db(chat.clock())


def _next_field(form, draft: FormDraft):
    if draft.asks is not None:  # a step's fields (or, on rework, the form's), asked before it is done
        return next((f for a in draft.asks if a not in draft.answered and (f := form.field(a)) is not None
                     and visible(f, draft.values)), None)
    return next((f for f in engine.fields_to_ask(form, draft.values) if f.id not in draft.answered), None)


def _step_row(session, draft: FormDraft) -> RequestStep | None:
    """The step instance a draft finishes (a work or rework step); None for a form being filled."""
    return session.get(RequestStep, draft.step_id) if draft.step_id is not None else None


def _required(session, form, field, draft: FormDraft) -> bool:
    """Required now: by the form, or because the work step asking for it needs it (required_from).
    On rework the form's fields are asked again, required as when it was filled."""
    row = _step_row(session, draft)
    if row is None or row.kind == REWORK:
        return field.required
    return required_at(form, field, form.index(row.step_key))


def _kept(draft: FormDraft, field):
    """What /skip keeps: the value a field already has on a step sent back or a rework (the draft starts
    from the request's values), until it is answered; None when there is nothing to keep."""
    if draft.step_id is None or field.id in draft.answered:
        return None
    value = draft.values.get(field.id)
    return None if is_empty(value) else value


def _skippable(session, form, field, draft: FormDraft) -> bool:
    return _kept(draft, field) is not None or not _required(session, form, field, draft)


def _question(chat, session, reader, form, field, draft: FormDraft) -> str:
    if draft.asks is not None:
        asked = [a for a in draft.asks if (f := form.field(a)) is not None and visible(f, draft.values)]
    else:
        asked = [f.id for f in engine.fields_to_ask(form, {})]
    options = [o.label.text(reader.lang) for o in (field.options or ())]
    kept = _kept(draft, field)
    return chat.render("form_ask", reader, label=field.label.text(reader.lang),
                       hint=field.hint.text(reader.lang) if field.hint else None, options=options,
                       type=field.type, required=_required(session, form, field, draft), multiple=field.multiple,
                       n=asked.index(field.id) + 1 if field.id in asked else None, total=len(asked),
                       current=show(session, field, kept, reader.lang, reader.tz) if kept is not None else None)


def _ask_next(chat, session, reader, form, draft, headline: str = "") -> Message:
    field = _next_field(form, draft)
    if field is not None:
        return _question_message(chat, session, reader, form, draft, field, headline)
    values = draft.values if draft.asks is None else {  # a step's: its fields, as they stand now
        k: v for k, v in draft.values.items()
        if k in draft.asks and (f := form.field(k)) is not None and visible(f, draft.values)}
    rows = engine.summary(session, form, values, reader.lang, reader.tz)
    row = _step_row(session, draft)
    text = chat.render("form_summary", reader, form=form.title.text(reader.lang), fields=rows, task_id=draft.task_id,
                       then=None if row is None else "resubmit" if row.kind == REWORK else "step")
    return Message(text=(headline + "\n" if headline else "") + text, buttons=_summary_buttons(reader, draft),
                   kind="text")


def _question_message(chat, session, reader, form, draft, field, headline: str = "", kind: str = "text") -> Message:
    """The question with its buttons: the answers to tap, then Skip, Back and Cancel."""
    text = (headline + "\n" if headline else "") + _question(chat, session, reader, form, field, draft)
    return Message(text=text, buttons=_question_buttons(session, reader, form, draft, field), kind=kind)


# ----- buttons while filling --------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """One tappable answer: what the button carries, shows, and stores."""

    arg: str
    label: str
    value: object


def _position(form, field) -> int:
    """The field's place in the form file (1-based): the same however show_if hides others."""
    return next(n for n, f in enumerate(form.fields, 1) if f.id == field.id)


def _picks(session, reader, field) -> list[Pick]:
    """The answers a field offers as buttons; empty when it is answered by typing."""
    _ = gettext_for(reader.lang)
    if field.type == "choice":
        return [Pick(o.id if len(o.id) <= 32 else str(n), o.label.text(reader.lang), o.id)
                for n, o in enumerate(field.options, 1)]
    if field.type == "yes_no":
        return [Pick("yes", _("Yes"), True), Pick("no", _("No"), False)]
    if field.type == "person" and not field.multiple:
        return [Pick(str(p.id), p.name, p.handle) for p in _people_to_pick(session)]
    return []


def _people_to_pick(session) -> list[Person]:
    """Everyone a person field takes (any active member), or nobody when they would not fit on keys."""
    people = session.exec(select(Person).where(Person.active == True)  # noqa: E712
                          .order_by(Person.name, Person.id).limit(PEOPLE_BUTTONS + 1)).all()
    return list(people) if len(people) <= PEOPLE_BUTTONS else []


def _question_buttons(session, reader, form, draft, field) -> list[list[Button]]:
    _ = gettext_for(reader.lang)
    at = _position(form, field)
    answers = [Button(p.label, c.PickAnswer(at, p.arg)) for p in _picks(session, reader, field)]
    controls = [Button(_("Skip"), c.SkipField(at))] if _skippable(session, form, field, draft) else []
    if draft.answered:
        controls.append(Button(_("Back"), c.BackField(at)))
    controls.append(Button(_("Cancel"), c.CancelForm()))
    return [answers[i:i + 2] for i in range(0, len(answers), 2)] + [controls]


def _summary_buttons(reader, draft) -> list[list[Button]]:
    _ = gettext_for(reader.lang)
    back = [Button(_("Back"), c.BackField(SUMMARY))] if draft.answered else []
    return [[Button(_("Send"), c.SubmitForm()), *back, Button(_("Cancel"), c.CancelForm())]]


def _on_screen(form, draft, position: int | None) -> None:
    """A tapped Skip or Back names the question it was on: refuse it unless that is still the one asked."""
    if position is None:
        return  # typed: whatever is asked now
    field = _next_field(form, draft)
    if position != (_position(form, field) if field else SUMMARY):
        raise BadInput(STALE_QUESTION)


def _pick(chat, session, reader, cmd: c.PickAnswer):
    """A tapped answer, checked against the question asked now."""
    draft, form = _draft(chat, session, reader)
    field = _next_field(form, draft)
    if field is None or cmd.position != _position(form, field):
        raise BadInput(STALE_QUESTION)
    pick = next((p for p in _picks(session, reader, field) if p.arg == cmd.answer), None)
    if pick is None:
        raise BadInput(NOT_AN_ANSWER)
    value = engine.check_value(_ctx(chat, session, reader), field, pick.value)
    _answer(chat, draft, field.id, value)
    session.add(draft)
    echo = chat._headline(reader, PICKED, field=field.label.text(reader.lang), answer=pick.label)
    return _ask_next(chat, session, reader, form, draft, echo)


def _draft(chat, session, reader):
    draft = session.get(FormDraft, reader.person.id)
    form = _forms(chat).get(draft.form_id) if draft else None
    if draft is None or form is None:
        raise BadInput(NO_DRAFT)
    return draft, form


def _cancel(chat, session, reader, cmd):
    draft, _form_ = _draft(chat, session, reader)
    session.delete(draft)
    return Message(text=chat._headline(reader, DRAFT_DROPPED), kind="text")


def _back(chat, session, reader, cmd):
    draft, form = _draft(chat, session, reader)
    _on_screen(form, draft, cmd.position)
    if not draft.answered:
        raise BadInput(NOTHING_BACK)
    last = draft.answered[-1]
    values = {k: v for k, v in draft.values.items() if k != last}
    row = _step_row(session, draft)
    if row is not None:  # a step's draft starts from the request's values: back to the one it had
        original = _start_values(session, form, row).get(last)
        if not is_empty(original):
            values[last] = original
    draft.values, draft.answered, draft.updated_at = values, draft.answered[:-1], to_db(chat.clock())
    session.add(draft)
    return _ask_next(chat, session, reader, form, draft)


def _skip(chat, session, reader, cmd):
    draft, form = _draft(chat, session, reader)
    _on_screen(form, draft, cmd.position)
    field = _next_field(form, draft)
    if field is None:
        raise BadInput(NOT_FINISHED)
    kept = _kept(draft, field)
    if kept is None and _required(session, form, field, draft):
        raise BadInput(NOT_OPTIONAL, field=field.label)
    _answer(chat, draft, field.id, kept)  # kept as it is, or left empty
    session.add(draft)
    return _ask_next(chat, session, reader, form, draft)


def _submit(chat, session, reader, cmd):
    draft, form = _draft(chat, session, reader)
    if _next_field(form, draft) is not None:
        raise BadInput(NOT_FINISHED)
    if draft.step_id is not None:  # the fields a work step (or a rework) asked for: now it is done
        values = {k: v for k, v in draft.values.items() if k in (draft.asks or [])}
        out = engine.complete_step(session, reader.person.id, draft.task_id, now=chat.clock(), step_id=draft.step_id,
                                   values=values, tz=reader.tz)
        session.delete(draft)
        headline = chat._headline(reader, HEADLINES["complete"] if out.changed else REPEATED, id=out.task.id)
        return request_card(chat, session, out.task, reader, headline)
    if draft.task_id is not None:
        out = engine.attach_form(session, reader.person.id, form, draft.task_id, dict(draft.values),
                                 now=chat.clock(), tz=reader.tz)
        headline = chat._headline(reader, ATTACHED, id=out.task.id)
    else:
        out = engine.start(session, reader.person.id, form, dict(draft.values), now=chat.clock(), tz=reader.tz,
                           lang=reader.lang)
        headline = chat._headline(reader, SUBMITTED, id=out.task.id)
    session.delete(draft)
    return request_card(chat, session, out.task, reader, headline)


# ----- shared with deciding (core/chat/step_dialogs.py) ---------------------------


def is_request(session, task_id: int) -> bool:
    return request_cards.is_request(session, task_id)


def request_card(chat, session, task, reader, headline: str = "", walk=None) -> Message:
    """The request's card; `walk`: the move just made, whose request and current step it reuses."""
    return request_cards.card(chat, session, task, reader, headline=headline, walk=walk)


def _start_values(session, form, row: RequestStep) -> dict:
    """The values a step's draft started from: the request's, with the files attached since the step opened."""
    request = session.get(FormRequest, row.request_id)
    return step_values(session, form, row, request, session.get(Task, request.task_id))


