"""A form's fields as plain data: labels in several languages, conditions, options, fields.

Everything here is immutable once loaded and knows its line in the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

FIELD_TYPES = (
    "text", "long_text", "number", "money", "date", "datetime", "period", "choice", "multi_choice",
    "yes_no", "person", "file", "link", "email", "phone", "table", "task",
)
COLUMN_TYPES = tuple(t for t in FIELD_TYPES if t not in ("table", "file"))


@dataclass(frozen=True)
class Label:
    """A text in several languages: {"en": …, "ru": …}."""

    texts: tuple[tuple[str, str], ...]

    def text(self, lang: str) -> str:
        """The text in `lang`, else English, else whatever there is."""
        found = dict(self.texts)
        return found.get(lang) or found.get("en") or next(iter(found.values()), "")

    def __str__(self) -> str:
        return self.text("en")

    @classmethod
    def of(cls, value: str | dict[str, str]) -> "Label":
        return cls(tuple(value.items()) if isinstance(value, dict) else (("en", value),))


@dataclass(frozen=True)
class Clause:
    """`amount.amount > 100000`: a field (and part of it), an operator, a value."""

    field: str
    part: str | None
    op: str  # == != > >= < <= in "not in" has "is set" "is empty" truthy
    value: object = None


@dataclass(frozen=True)
class Condition:
    """Clauses joined by `and` inside groups joined by `or`, as written on one line."""

    groups: tuple[tuple[Clause, ...], ...]
    text: str
    line: int


@dataclass(frozen=True)
class Option:
    id: str
    label: Label


@dataclass(frozen=True)
class Field:
    """One field of a form, or one column of a table field."""

    id: str
    type: str
    label: Label
    line: int
    required: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    pattern: str | None = None
    options: tuple[Option, ...] = ()
    multiple: bool = False  # person and file fields may hold several
    currency: str = "RUB"  # money: the default currency
    currencies: tuple[str, ...] = ()  # money: the allowed ones (empty: any ISO code)
    columns: tuple["Field", ...] = ()
    show_if: Condition | None = None
    required_from: str | None = None  # a step id: required from that step on
    locked_from: str | None = None  # a step id: no changes from that step on
    hint: Label | None = None

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)
