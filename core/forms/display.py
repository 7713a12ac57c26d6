"""A stored value as a reader sees it: in their language, zone and number format."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from sqlmodel import Session

from core.clock import zone
from core.forms.schema import Field
from core.i18n import N_, gettext_for
from core.people import by_handle

YES, NO = N_("yes"), N_("no")


def show(session: Session, field: Field, value, lang: str, tz: str) -> str:
    """One value as text; a table is one line per row."""
    if value is None or value == "" or value == []:
        return "—"
    kind = field.type
    if kind == "number":
        return format_decimal(Decimal(str(value)), locale=lang)
    if kind == "money":
        return f"{format_decimal(Decimal(value['amount']), locale=lang)} {value['currency']}"
    if kind == "date":
        return format_date(date.fromisoformat(value), "d MMM y", locale=lang)
    if kind == "datetime":
        return format_datetime(datetime.fromisoformat(value), "d MMM y, HH:mm", tzinfo=zone(tz), locale=lang)
    if kind == "period":
        return " – ".join(format_date(date.fromisoformat(value[k]), "d MMM y", locale=lang) for k in ("from", "to"))
    if kind in ("choice", "multi_choice"):
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(o.label.text(lang) if (o := field.option(v)) else str(v) for v in chosen)
    if kind == "yes_no":
        return gettext_for(lang)(YES if value else NO)
    if kind == "person":
        handles = value if isinstance(value, list) else [value]
        return ", ".join(p.name if (p := by_handle(session, h)) else f"@{h}" for h in handles)
    if kind == "file":
        return ", ".join(item.get("name") or item.get("file_id", "")[:20] for item in value)
    if kind == "table":
        return "\n".join(" · ".join(show(session, c, row.get(c.id), lang, tz) for c in field.columns) for row in value)
    if kind == "task":
        return f"#{value}"
    return str(value)


def shown_fields(session: Session, fields, values: dict, lang: str, tz: str) -> list[dict]:
    """(label, text) of every filled field, in the form's order, for cards and summaries."""
    return [{"id": f.id, "label": f.label.text(lang), "value": show(session, f, values.get(f.id), lang, tz),
             "table": f.type == "table"} for f in fields if values.get(f.id) not in (None, "", [])]
