"""A form filled all at once, for platforms with a form UI of their own (a Slack modal).

The chat asks field by field (core/chat/form_dialogs.py); a sheet shows every field
the form asks at start in one go, and the platform hands back what was typed
or picked, keyed by field id. Nothing handed back is trusted: each value is
read by the same readers as typed chat text, so the same errors come back,
now per field, in the person's language.

Conditional fields (`show_if`) that only appear once other answers are known
come in a follow-up sheet: the answers so far wait in the person's form draft
(the same row the chat uses), so a worker that did not see the first sheet can
take the second.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlmodel import Session, select

from core import forms as engine
from core.chat import form_dialogs as chat_forms
from core.chat import step_dialogs
from core.domain.clock import to_db
from core.domain.errors import BadInput, Forbidden
from core.domain.models import FormDraft, Person
from core.forms.request_cards import STEP_ARG
from core.forms.requests import NOT_A_STARTER, fills
from core.forms.route import REWORK, prepare
from core.forms.values import MISSING, TEXT_MAX, is_empty
from core.presentation.i18n import N_, gettext_for
from core.presentation.messages import STALE_BUTTON, Message
from core.presentation.render import refusal_text
from core.presentation.views import Reader

PEOPLE_LISTED = 100  # a select lists at most this many people; more, and the person is typed
MORE_FIELDS = N_("A few more questions, from your answers so far:")
STALE_SHEET = N_("This form was already sent or cancelled. Start it again with /form %(name)s.")
HINTS = {
    "money": N_("An amount and a currency, like 150 000 RUB or 1200 USD."),
    "period": N_("Two dates, like 14.12 – 25.12."),
    "datetime": N_("A date and time, like 31.12 15:00 or tomorrow 10:00."),
    "date": N_("A date, like 31.12.2026 or friday."),
    "phone": N_("Like +7 916 123-45-67."),
    "task": N_("A task number, like #42."),
    "person": N_("Mention a person, like @olga."),
}
KEEPS = N_("Now: %(value)s. Leave it empty to keep it.")
TABLE_HINT = N_("One row per line, cells separated by |: %(columns)s")


@dataclass(frozen=True)
class SheetField:
    """One field as a form UI draws it; `options` are (value, label) pairs for choices, yes/no and people."""

    id: str
    type: str
    label: str
    required: bool
    hint: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    multiple: bool = False
    max_length: int | None = None
    initial: str | None = None  # typed text as it would be read back, or an ISO date for a date field
    picked: tuple[str, ...] = ()  # the option values picked already (a field asked again)


@dataclass(frozen=True)
class Sheet:
    """The fields to show now; `intro` says why there is a follow-up."""

    form_id: str
    title: str
    task_id: int | None
    fields: tuple[SheetField, ...]
    intro: str | None = None


@dataclass
class SheetResult:
    """What a submitted sheet came to: field errors, a follow-up sheet, or the request's card."""

    errors: dict[str, str] = field(default_factory=dict)
    follow_up: Sheet | None = None
    card: Message | None = None
    refusal: Message | None = None


def open_sheet(chat, person_id: int, name: str, platform: str, *, task_id: int | None = None,
               initial: dict[str, str] | None = None) -> Sheet | Message:
    """The first sheet of a form, or a refusal (no such form, not for this person)."""
    def work(session: Session, reader: Reader):
        form = _form(chat, name)
        if not engine.may_start(session, reader.person, form):
            raise Forbidden(NOT_A_STARTER, form=form.title)
        _keep(chat, session, reader.person.id, form.id, task_id, {})
        fields = engine.fields_to_ask(form, {})
        return _sheet(session, reader, form, task_id, fields, initial or {})
    return chat._guard(person_id, platform, work)


def submit_sheet(chat, person_id: int, form_id: str, task_id: int | None, answers: dict, platform: str) -> SheetResult:
    """Read every answer; errors per field, else the next sheet, else the request is started."""
    result = SheetResult()

    def work(session: Session, reader: Reader):
        form = _form(chat, form_id)
        draft = session.get(FormDraft, reader.person.id)
        if draft is None or draft.form_id != form.id or draft.task_id != task_id:
            raise BadInput(STALE_SHEET, name=form.id)
        values, shown = dict(draft.values), set(draft.answered)
        ctx = engine.Context(session, reader.person.id, chat.clock(), reader.tz)
        for field_ in form.fields:
            if field_.id not in answers:
                continue
            shown.add(field_.id)
            raw = answers[field_.id]
            try:
                if is_empty(raw):
                    if field_.required:
                        raise BadInput(MISSING, field=field_.label)
                    values.pop(field_.id, None)
                else:
                    values[field_.id] = engine.read_value(ctx, field_, raw)
            except BadInput as exc:
                result.errors[field_.id] = refusal_text(exc, reader.lang, reader.platform)
        if result.errors:
            return None  # the draft stays as it was; the sheet stays open to fix
        draft.values, draft.answered, draft.updated_at = values, sorted(shown), to_db(chat.clock())
        session.add(draft)
        more = [f for f in engine.fields_to_ask(form, values) if f.id not in shown]
        if more:
            result.follow_up = _sheet(session, reader, form, task_id, more, {},
                                      intro=chat._headline(reader, MORE_FIELDS))
            return None
        result.card = chat_forms._submit(chat, session, reader, None)
        return None

    refusal = chat._guard(person_id, platform, work)
    if refusal is not None:
        result.refusal = refusal
    return result


def _form(chat, name: str):
    form = chat_forms._forms(chat).get((name or "").strip().lower())
    if form is None:
        raise BadInput(chat_forms.UNKNOWN_FORM, name=(name or "").split()[0][:40] if (name or "").split() else "")
    return form


def _keep(chat, session: Session, person_id: int, form_id: str, task_id: int | None, values: dict) -> None:
    """Start (or restart) the person's draft: the answers of a first sheet wait there for the follow-up."""
    draft = session.get(FormDraft, person_id) or FormDraft(person_id=person_id, form_id=form_id,
                                                           updated_at=to_db(chat.clock()))
    draft.form_id, draft.task_id, draft.values, draft.answered = form_id, task_id, dict(values), []
    draft.updated_at = to_db(chat.clock())
    session.add(draft)


def _sheet(session: Session, reader: Reader, form, task_id, fields, initial: dict, intro: str | None = None) -> Sheet:
    return Sheet(form_id=form.id, title=form.title.text(reader.lang), task_id=task_id, intro=intro,
                 fields=tuple(_field(session, reader, f, initial.get(f.id)) for f in fields))


def _field(session: Session, reader: Reader, f, initial: str | None) -> SheetField:
    say = gettext_for(reader.lang)
    hint = f.hint.text(reader.lang) if f.hint else None
    options: tuple[tuple[str, str], ...] = ()
    kind = f.type
    if f.type in ("choice", "multi_choice"):
        options = tuple((o.id, o.label.text(reader.lang)) for o in f.options)
    elif f.type == "yes_no":
        options = (("yes", say(N_("Yes"))), ("no", say(N_("No"))))
    elif f.type == "person":
        people = _people(session)
        if len(people) <= PEOPLE_LISTED:
            options = tuple((p.handle, p.name) for p in people)
        else:
            kind, hint = "person_typed", hint or say(HINTS["person"])
    elif f.type == "table":
        hint = hint or say(TABLE_HINT, columns=" | ".join(c.label.text(reader.lang) for c in f.columns))
    elif f.type in HINTS and f.type != "person":
        hint = hint or say(HINTS[f.type])
    max_length = int(f.max) if f.type in TEXT_MAX and f.max is not None else TEXT_MAX.get(f.type)
    return SheetField(id=f.id, type=kind, label=f.label.text(reader.lang), required=f.required, hint=hint,
                      options=options, multiple=f.multiple or f.type == "multi_choice", max_length=max_length,
                      initial=initial)


def _people(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.active == True).order_by(Person.name)))  # noqa: E712


# ----- a work step's fields ----------------------------------------------------------


@dataclass(frozen=True)
class StepSheet:
    """The fields a work step's person fills before saying Done (the payment order, the documents)."""

    task_id: int
    step_arg: str  # "s17": the step instance, so an old modal cannot finish a later step
    title: str
    fields: tuple[SheetField, ...]


def open_step_sheet(chat, person_id: int, task_id: int, step_arg: str, platform: str) -> StepSheet | Message | None:
    """The step's fields to fill, a refusal (not your step), or None when the step fills nothing."""
    def work(session: Session, reader: Reader):
        walk, row, assignee, step = _work_step(chat, session, reader, task_id, step_arg)
        # What the chat would ask for (core/chat/form_dialogs.py): the fields the step still needs, or, on a step
        # the route came back to and on a rework, its fields again, each keeping its value when left empty.
        asks = step_dialogs.done_questions(session, walk, row, assignee)
        if not asks:
            return None
        ids, current, _headline = asks
        shown = tuple(_keeping(session, reader, walk.form, f, current.get(f.id))
                      for f in walk.form.fields if f.id in ids)
        title = step.label.text(reader.lang) if step else walk.form.title.text(reader.lang)
        return StepSheet(task_id=task_id, step_arg=step_arg, title=title, fields=shown)
    return chat._guard(person_id, platform, work)


def submit_step_sheet(chat, person_id: int, task_id: int, step_arg: str, answers: dict, platform: str) -> SheetResult:
    """Done with the step, with what was filled: errors per field, a refusal, or the request's card."""
    result = SheetResult()

    def work(session: Session, reader: Reader):
        ctx = engine.Context(session, reader.person.id, chat.clock(), reader.tz)
        walk, _row, _assignee, step = _work_step(chat, session, reader, task_id, step_arg)
        allowed = fills(walk.form, step) if step else {f.id for f in walk.form.fields}
        values = {}
        for name, raw in answers.items():
            field_ = walk.form.field(name)
            if field_ is None or name not in allowed or is_empty(raw):
                continue
            try:
                values[name] = engine.read_value(ctx, field_, raw)
            except BadInput as exc:
                result.errors[name] = refusal_text(exc, reader.lang, reader.platform)
        if result.errors:
            return None
        try:
            out = engine.complete_step(session, reader.person.id, task_id, now=chat.clock(),
                                       step_id=int(step_arg[1:]), values=values, tz=reader.tz)
        except BadInput as exc:  # a field the step needs is still empty: said under the first one
            first = next((f for f in walk.form.fields if f.id in allowed), None)
            result.errors[first.id if first else ""] = refusal_text(exc, reader.lang, reader.platform)
            return None
        headline = chat._headline(reader, chat_forms.HEADLINES["complete"] if out.changed else chat_forms.REPEATED,
                                  id=task_id)
        result.card = chat_forms.request_card(chat, session, out.task, reader, headline)
        return None

    refusal = chat._guard(person_id, platform, work)
    if refusal is not None:
        result.refusal = refusal
    return result


def _keeping(session: Session, reader: Reader, form, f, value) -> SheetField:
    """A field asked again: required while empty; with a value, filled in with it where the UI can show it
    (text, a date, options picked) and optional, else its hint says what it is now (files, tables)."""
    field_ = _field(session, reader, f, None)
    if is_empty(value):
        return replace(field_, required=True)
    field_ = replace(field_, required=False)
    if field_.options and field_.type != "person_typed":
        values = value if isinstance(value, list) else [value]
        picked = tuple("yes" if v is True else "no" if v is False else str(v) for v in values)
        return replace(field_, picked=picked)
    initial = _as_typed(f.type, value)
    if initial is not None:
        return replace(field_, initial=initial)
    now = engine.summary(session, form, {f.id: value}, reader.lang, reader.tz)
    shown = now[0]["value"] if now else ""
    return replace(field_, hint=gettext_for(reader.lang)(KEEPS, value=shown[:200]))


def _as_typed(kind: str, value) -> str | None:
    """A stored value as the text that reads back to it (None: no such text, as for files and tables)."""
    if kind in ("text", "long_text", "link", "email", "phone", "date", "datetime") and isinstance(value, str):
        return value
    if kind == "number" and isinstance(value, (int, float)):
        return str(value)
    if kind == "money" and isinstance(value, dict):
        return f"{value.get('amount')} {value.get('currency')}"
    if kind == "period" and isinstance(value, dict):
        return f"{value.get('from')} – {value.get('to')}"
    if kind == "task" and isinstance(value, int):
        return f"#{value}"
    if kind == "person" and isinstance(value, (str, list)):
        return " ".join(f"@{v}" for v in ([value] if isinstance(value, str) else value))
    return None


def _work_step(chat, session: Session, reader: Reader, task_id: int, step_arg: str):
    """The request's walk, the step instance, this person's part in it (as `prepare` found them) and the
    work step of the form they may finish now; refusals as the core words them."""
    found = STEP_ARG.match(step_arg or "")
    if found is None:
        raise BadInput(STALE_BUTTON)
    walk, row, assignee = prepare(session, reader.person.id, task_id, int(found.group(1)), ("work", REWORK),
                                  chat.clock())
    step = walk.form.step(row.step_key)
    if step is None and row.kind != REWORK:
        raise BadInput(STALE_BUTTON)
    return walk, row, assignee, step  # (no step of the route for a rework: the author sends the form again)
