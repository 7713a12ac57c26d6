"""What reading a value needs, and what every reader shares."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.chat.parsing import valid_text
from core.domain.errors import BadInput
from core.forms.fields import Field
from core.presentation.i18n import N_

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
