"""Values that are chosen or gathered: choices, people, files, task references, table rows."""
from __future__ import annotations

import re

from core.domain.errors import BadInput
from core.forms.context import MISSING, counted, is_empty
from core.forms.fields import Field
from core.forms.phrases import Choices, Names, Phrase
from core.presentation.i18n import N_
from core.services.people import MENTION, get_active, resolve_mention
from core.services.tasks import visible_task

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
    from core.forms.values import check_value  # values dispatch to this module

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
