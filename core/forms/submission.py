"""A whole submission: which fields are asked, which are required now, which are locked.

A field with `show_if` exists only while its condition holds (hidden values are
dropped). A field `required_from: <step>` is not asked when the form is
filled: the people of that step fill it, and it is required from that step on.
A field `locked_from: <step>` cannot change once the route has reached that step.
"""
from __future__ import annotations

from core.domain.errors import BadInput, Forbidden
from core.forms.conditions import holds
from core.forms.context import MISSING, Context, is_empty
from core.forms.schema import Field, Form
from core.forms.values import check_value
from core.presentation.i18n import N_

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
