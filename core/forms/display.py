"""A stored value as a reader sees it: in their language, zone and number format.

A stored value is shown whatever it holds: one this build cannot read (a draft
from an older build, a row edited by hand) is shown as plain text, never raised.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from sqlmodel import Session

from core.domain.clock import zone
from core.forms.schema import Field
from core.forms.who import member
from core.presentation.i18n import N_, gettext_for

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
