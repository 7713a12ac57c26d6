"""What a person fills in: one field's value, read from chat text or checked as given, and a
whole submission (which fields are asked, required, locked), stored as JSON.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlmodel import Session

from core.chat.parsing import valid_text
from core.domain.errors import BadInput, Forbidden
from core.forms.readers import (
    DATETIME, PERIOD_ORDER, Choices, Names, Phrase, read_date, read_datetime, read_email, read_link, read_money,
    read_number, read_period, read_phone, read_yes_no,
)
from core.forms.schema import Field, Form, holds
from core.presentation.i18n import N_
from core.services.people import MENTION, get_active, resolve_mention
from core.services.tasks import visible_task


# What reading a value needs, and what every reader shares.

MISSING = N_("%(field)s is required.")
FEW = N_("%(field)s needs at least %(min)s entries.")
MANY = N_("%(field)s takes at most %(max)s entries.")


@dataclass(frozen=True)
class Context:
    """What reading a value needs: the store (people, tasks), who types, now, their zone."""

    session: Session
    actor_id: int
    now: datetime
    tz: str = "UTC"


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def counted(field: Field, items: list) -> list:
    """A list value within the field's min and max count."""
    if field.min is not None and len(items) < field.min:
        raise BadInput(FEW, field=field.label, min=int(field.min))
    if field.max is not None and len(items) > field.max:
        raise BadInput(MANY, field=field.label, max=int(field.max))
    return items


def valid(value):
    """A value from a modal, a bot or JSON with every text in it valid and free of NUL (PostgreSQL refuses it)."""
    if isinstance(value, str):
        return valid_text(value).replace("\x00", "")
    if isinstance(value, list):
        return [valid(item) for item in value]
    if isinstance(value, dict):
        return {valid(k) if isinstance(k, str) else k: valid(v) for k, v in value.items()}
    return value


# Values that are chosen or gathered: choices, people, files, task references, table rows.

CHOICE = N_("“%(text)s” is not one of: %(choices)s. Type a number or a name.")
ONE_PERSON = N_("%(field)s takes one person; mention just one, like @olga.")
NO_PERSON = N_("Mention a person, like @olga.")
FILE = N_("Send the file itself, as an attachment.")
CELL = N_("Row %(row)s, %(column)s: %(problem)s")
CELLS = N_("Row %(row)s has %(cells)s cells; %(field)s has the columns %(names)s, separated by |.")
# ASCII digits only ("²".isdigit() holds but int("²") raises), few enough for an INTEGER column.
NUMBER = re.compile(r"[0-9]{1,9}")


def choice(ctx, field, value):
    """An option by its number, its id, or its label in any language."""
    text = str(value).strip()
    if NUMBER.fullmatch(text) and 0 < int(text) <= len(field.options):
        return field.options[int(text) - 1].id
    wanted = text.casefold()
    for option in field.options:
        if wanted == option.id or any(wanted == label.casefold() for _lang, label in option.label.texts):
            return option.id
    raise BadInput(CHOICE, text=text[:40], choices=Choices(field))


def multi_choice(ctx, field, value):
    """'1, Services' -> [ids], each once."""
    items = value if isinstance(value, list) else re.split(r"\s*[,;\n]\s*", str(value))
    chosen = list(dict.fromkeys(choice(ctx, field, item) for item in items if str(item).strip()))
    return counted(field, chosen)


def person(ctx, field, value):
    """'@olga' -> 'olga' (several when the field takes several)."""
    words = value if isinstance(value, list) else (MENTION.findall(str(value)) or str(value).replace(",", " ").split())
    handles = list(dict.fromkeys(resolve_mention(ctx.session, str(w).lstrip("@")).handle for w in words))
    if not handles:
        raise BadInput(NO_PERSON)
    if not field.multiple:
        if len(handles) > 1:
            raise BadInput(ONE_PERSON, field=field.label)
        return handles[0]
    return counted(field, handles)


def file(ctx, field, value):
    """Files as the platform gave them: [{file_id, platform, name, …}]; text is refused."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) and str(item.get("file_id") or "") for item in items):
        raise BadInput(FILE)
    return counted(field, [_file_item(item) for item in items])


def _file_item(item: dict) -> dict:
    """The keys an attachment row stores, each of its column's type (a modal or a bot may send anything)."""
    kept = {k: str(item[k]) for k in ("file_id", "platform", "name", "mime_type") if item.get(k) is not None}
    return kept | {k: item[k] for k in ("size", "attachment_id")
                   if type(item.get(k)) is int and 0 <= item[k] < 2**31}  # an INTEGER column; no bool


def task(ctx, field, value):
    """'#42' -> 42, when the person may see that task."""
    number = str(value).strip().lstrip("#")
    task_id = int(number) if NUMBER.fullmatch(number) else 0
    return visible_task(ctx.session, get_active(ctx.session, ctx.actor_id), task_id).id


def table(ctx, field, value):
    """Rows as lines of cells separated by |, or as mappings; each cell read by its column."""
    rows = value if isinstance(value, list) else [r for r in str(value).splitlines() if r.strip()]
    return counted(field, [_row(ctx, field, row, n) for n, row in enumerate(rows, 1)])


def _row(ctx, field: Field, row, number: int) -> dict:
    if not isinstance(row, dict):
        cells = [c.strip() for c in str(row).split("|")]
        if len(cells) > len(field.columns):
            raise BadInput(CELLS, row=number, cells=len(cells), field=field.label, names=Names.of(field.columns))
        row = dict(zip((c.id for c in field.columns), cells))
    found = {}
    for column in field.columns:
        raw = row.get(column.id)
        try:
            if is_empty(raw):
                if column.required:
                    raise BadInput(MISSING, field=column.label)
                continue
            found[column.id] = check_value(ctx, column, raw)  # a cell is a value of its column's type
        except BadInput as exc:
            raise BadInput(CELL, row=number, column=column.label,
                           problem=Phrase(exc.msgid, tuple(exc.params.items()))) from None
    return found


# One field's value: read from chat text or checked as given, then stored as JSON.
#
# Stored shapes: text, link, email, phone -> str; number -> int or float; money ->
# {"amount": "150000", "currency": "RUB"}; date -> "2026-12-31"; datetime ->
# ISO UTC; period -> {"from": date, "to": date}; choice -> option id; multi_choice
# -> [ids]; yes_no -> bool; person -> handle (a list when `multiple`); file -> [{file_id,
# platform, name, …}]; table -> [{column: value}]; task -> task id.

TOO_SHORT = N_("%(field)s needs at least %(min)s characters.")
TOO_LONG = N_("%(field)s takes at most %(max)s characters; this is %(length)s.")
NO_MATCH = N_("“%(text)s” doesn't fit %(field)s.")
BELOW = N_("%(field)s must be at least %(min)s.")
ABOVE = N_("%(field)s must be at most %(max)s.")
CURRENCY = N_("%(field)s takes %(allowed)s, not %(currency)s.")
TOO_LARGE = N_("%(field)s is too large: at most %(max)s digits.")
TOO_PRECISE = N_("%(field)s takes at most %(max)s digits after the decimal point.")
TEXT_MAX = {"text": 300, "long_text": 4000}
# Digits before and after the point: far inside what babel formats (it raises near Decimal's 28).
DIGITS, PLACES = 15, 6


def read_value(ctx: Context, field: Field, text: str):
    """Chat text -> the stored value, or BadInput saying what would do."""
    return check_value(ctx, field, text)


def check_value(ctx: Context, field: Field, value):
    """A value from chat, a modal, a bot or JSON -> checked and stored shape (never trusted as given)."""
    value = valid(value)  # modal and bot values do not pass through Chat.handle
    return READERS[field.type](ctx, field, value.strip() if isinstance(value, str) else value)


def _text(ctx, field, value):
    text = str(value)
    limit = int(field.max) if field.max is not None else TEXT_MAX.get(field.type, 300)
    if len(text) > limit:
        raise BadInput(TOO_LONG, field=field.label, max=limit, length=len(text))
    if field.min is not None and len(text) < field.min:
        raise BadInput(TOO_SHORT, field=field.label, min=int(field.min))
    if field.pattern and not re.fullmatch(field.pattern, text):
        raise BadInput(NO_MATCH, text=text[:40], field=field.label)
    return text


def _link(ctx, field, value):
    return _text(ctx, field, read_link(str(value)))


def _email(ctx, field, value):
    return _text(ctx, field, read_email(str(value)))


def _phone(ctx, field, value):
    return _text(ctx, field, read_phone(str(value)))


def _number(ctx, field, value):
    number = _bounded(field, read_number(str(value)))
    return int(number) if number == number.to_integral_value() else float(number)


def _money(ctx, field, value):
    if isinstance(value, dict):
        amount = read_number(str(value.get("amount", "")))
        currency = str(value.get("currency") or field.currency)
    else:
        amount, currency = read_money(str(value), field.currency)
    currency = currency.upper()
    if field.currencies and currency not in field.currencies:
        raise BadInput(CURRENCY, field=field.label, allowed=", ".join(field.currencies), currency=currency)
    amount = _bounded(field, amount)
    return {"amount": format(amount.normalize(), "f"), "currency": currency}


def _bounded(field: Field, number: Decimal) -> Decimal:
    """The number within the field's min and max, and within DIGITS and PLACES."""
    whole, _point, fraction = format(number, "f").lstrip("-").partition(".")
    if len(whole.lstrip("0")) > DIGITS:
        raise BadInput(TOO_LARGE, field=field.label, max=DIGITS)
    if len(fraction.rstrip("0")) > PLACES:
        raise BadInput(TOO_PRECISE, field=field.label, max=PLACES)
    if field.min is not None and number < field.min:
        raise BadInput(BELOW, field=field.label, min=format(field.min.normalize(), "f"))
    if field.max is not None and number > field.max:
        raise BadInput(ABOVE, field=field.label, max=format(field.max.normalize(), "f"))
    return number


def _yes_no(ctx, field, value):
    return value if isinstance(value, bool) else read_yes_no(str(value))


def _date(ctx, field, value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return read_date(str(value), now=ctx.now, tz=ctx.tz).isoformat()


def _datetime(ctx, field, value):
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            moment = read_datetime(str(value), now=ctx.now, tz=ctx.tz)
    if moment.tzinfo is None:
        raise BadInput(DATETIME, text=str(value)[:40])
    try:
        return moment.astimezone(timezone.utc).isoformat()
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first moment in UTC
        raise BadInput(DATETIME, text=str(value)[:40]) from None


def _period(ctx, field, value):
    if isinstance(value, dict):
        start, end = (_date(ctx, field, value.get(k) or "") for k in ("from", "to"))
        if end < start:
            raise BadInput(PERIOD_ORDER, start=start, end=end)
        return {"from": start, "to": end}
    start, end = read_period(str(value), now=ctx.now, tz=ctx.tz)
    return {"from": start.isoformat(), "to": end.isoformat()}


READERS = {
    "text": _text, "long_text": _text, "link": _link, "email": _email, "phone": _phone, "number": _number,
    "money": _money, "date": _date, "datetime": _datetime, "period": _period, "yes_no": _yes_no,
    "choice": choice, "multi_choice": multi_choice, "person": person,
    "file": file, "task": task, "table": table,
}


# A whole submission: which fields are asked, which are required now, which are locked.
#
# A field with `show_if` exists only while its condition holds (hidden values are
# dropped). A field `required_from: <step>` is not asked when the form is
# filled: the people of that step fill it, and it is required from that step on.
# A field `locked_from: <step>` cannot change once the route has reached that step.

UNKNOWN_FIELD = N_("This form has no field “%(name)s”.")
LOCKED = N_("%(field)s can no longer be changed.")
NOT_HERE = N_("%(field)s isn't filled at this step.")
START = -1  # the stage of a form being filled, before its first step


def visible(field: Field, values: dict) -> bool:
    return holds(field.show_if, values)


def start_fields(form: Form) -> list[Field]:
    """The fields asked when the form is filled (not the ones later steps fill)."""
    return [f for f in form.fields if f.required_from is None]


def fields_to_ask(form: Form, values: dict) -> list[Field]:
    """What to ask now, in order: start fields whose condition holds for the answers so far.
    Ask again after each answer: an answer may show or hide the fields after it."""
    return [f for f in start_fields(form) if visible(f, values)]


def required_at(form: Form, field: Field, stage: int) -> bool:
    """Is the field required at this stage (a step's index in the route, or START)?"""
    if field.required_from is not None:
        return form.index(field.required_from) <= stage
    return field.required


def locked_at(form: Form, field: Field, stage: int) -> bool:
    return field.locked_from is not None and form.index(field.locked_from) <= stage


def check_submission(ctx: Context, form: Form, values: dict, *, stage: int = START) -> dict:
    """Every value checked; hidden ones dropped; what is required at `stage` must be there."""
    for name in values:
        if form.field(name) is None:
            raise BadInput(UNKNOWN_FIELD, name=str(name)[:40])
    clean: dict = {}
    for field in form.fields:
        raw = values.get(field.id)
        if not is_empty(raw):
            clean[field.id] = check_value(ctx, field, raw)
    return complete(form, clean, stage)


def complete(form: Form, values: dict, stage: int) -> dict:
    """Drop what is hidden, then insist on what is required (shown ones only)."""
    shown = {k: v for k, v in values.items() if visible(form.field(k), values)}
    for field in form.fields:
        if visible(field, shown) and required_at(form, field, stage) and is_empty(shown.get(field.id)):
            raise BadInput(MISSING, field=field.label)
    return shown


def merge(ctx: Context, form: Form, current: dict, changes: dict, *, stage: int,
          allowed: set[str] | None = None) -> dict:
    """Apply changes made at a step: only `allowed` fields (None: any), never locked ones."""
    updated = dict(current)
    for name, value in changes.items():
        field = form.field(name)
        if field is None:
            raise BadInput(UNKNOWN_FIELD, name=str(name)[:40])
        new = None if is_empty(value) else check_value(ctx, field, value)
        if new == current.get(name):
            continue
        if allowed is not None and name not in allowed:
            raise Forbidden(NOT_HERE, field=field.label)
        if locked_at(form, field, stage):
            raise Forbidden(LOCKED, field=field.label)
        updated[name] = new
    return complete(form, {k: v for k, v in updated.items() if v is not None}, stage)
