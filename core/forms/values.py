"""One field's value: read from chat text or checked as given, then stored as JSON.

Stored shapes: text, link, email, phone -> str; number -> int or float; money ->
{"amount": "150000", "currency": "RUB"}; date -> "2026-12-31"; datetime ->
ISO UTC; period -> {"from": date, "to": date}; choice -> option id; multi_choice
-> [ids]; yes_no -> bool; person -> handle (a list when `multiple`); file -> [{file_id,
platform, name, …}]; table -> [{column: value}]; task -> task id.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

from core.domain.errors import BadInput
from core.forms import choices, dates, readers
from core.forms.context import MISSING, Context, counted, is_empty, valid  # noqa: F401  (the package's API)
from core.forms.fields import Field
from core.presentation.i18n import N_

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
    return _text(ctx, field, readers.read_link(str(value)))


def _email(ctx, field, value):
    return _text(ctx, field, readers.read_email(str(value)))


def _phone(ctx, field, value):
    return _text(ctx, field, readers.read_phone(str(value)))


def _number(ctx, field, value):
    number = _bounded(field, readers.read_number(str(value)))
    return int(number) if number == number.to_integral_value() else float(number)


def _money(ctx, field, value):
    if isinstance(value, dict):
        amount = readers.read_number(str(value.get("amount", "")))
        currency = str(value.get("currency") or field.currency)
    else:
        amount, currency = readers.read_money(str(value), field.currency)
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
    return value if isinstance(value, bool) else readers.read_yes_no(str(value))


def _date(ctx, field, value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return dates.read_date(str(value), now=ctx.now, tz=ctx.tz).isoformat()


def _datetime(ctx, field, value):
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            moment = dates.read_datetime(str(value), now=ctx.now, tz=ctx.tz)
    if moment.tzinfo is None:
        raise BadInput(dates.DATETIME, text=str(value)[:40])
    try:
        return moment.astimezone(timezone.utc).isoformat()
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first moment in UTC
        raise BadInput(dates.DATETIME, text=str(value)[:40]) from None


def _period(ctx, field, value):
    if isinstance(value, dict):
        start, end = (_date(ctx, field, value.get(k) or "") for k in ("from", "to"))
        if end < start:
            raise BadInput(dates.PERIOD_ORDER, start=start, end=end)
        return {"from": start, "to": end}
    start, end = dates.read_period(str(value), now=ctx.now, tz=ctx.tz)
    return {"from": start.isoformat(), "to": end.isoformat()}


READERS = {
    "text": _text, "long_text": _text, "link": _link, "email": _email, "phone": _phone, "number": _number,
    "money": _money, "date": _date, "datetime": _datetime, "period": _period, "yes_no": _yes_no,
    "choice": choices.choice, "multi_choice": choices.multi_choice, "person": choices.person,
    "file": choices.file, "task": choices.task, "table": choices.table,
}
