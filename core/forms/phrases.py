"""Refusal parameters that are said differently in each language.

A refusal carries a msgid and parameters, never a rendered sentence (core/errors).
A field's label, a list of choices or a nested refusal depend on the reader's
language too: these objects render themselves with `text(lang)`, which
`core.presentation.render.refusal_text` calls.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.forms.fields import Field, Label
from core.presentation.i18n import gettext_for


def say(value, lang: str):
    """A parameter in a language: phrases render themselves, msgids are translated."""
    if callable(getattr(value, "text", None)):
        return value.text(lang)
    return gettext_for(lang)(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Phrase:
    """A refusal inside a refusal ("Row 2, Due: <why>")."""

    msgid: str
    params: tuple[tuple[str, object], ...] = ()

    def text(self, lang: str) -> str:
        return gettext_for(lang)(self.msgid, **{k: say(v, lang) for k, v in self.params})

    def __str__(self) -> str:
        return self.text("en")


@dataclass(frozen=True)
class Choices:
    """"1 — Materials, 2 — Services" in the reader's language."""

    field: Field

    def text(self, lang: str) -> str:
        return ", ".join(f"{i} — {o.label.text(lang)}" for i, o in enumerate(self.field.options, 1))

    def __str__(self) -> str:
        return self.text("en")


@dataclass(frozen=True)
class Names:
    """Some labels in a row: a table's columns "What, Who, By when", a step's outcomes."""

    labels: tuple[Label, ...]

    @classmethod
    def of(cls, items) -> "Names":
        """From fields, columns or outcomes: anything with a `label`."""
        return cls(tuple(item.label for item in items))

    def text(self, lang: str) -> str:
        return ", ".join(label.text(lang) for label in self.labels)

    def __str__(self) -> str:
        return self.text("en")
