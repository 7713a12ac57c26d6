"""What a form file declares, as plain data: labels, fields and their conditions, the route's
steps and their deadlines, the actions on start and completion, and the form itself.

Everything here is immutable once loaded and knows its line in the file, so checks can
point at it. Nothing here touches the store.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import yaml

from core.domain.clock import zone
from core.domain.workdays import WEEKDAYS, Calendar


# A form's fields: labels in several languages, conditions, options, fields.

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


# The route's steps, the actions on start and completion, and the form itself.

STEP_KINDS = ("approve", "acknowledge", "work", "decide", "bot")
WHO_WORDS = ("author", "manager", "chain", "admins")  # and role:<r>, person:<handle>, field:<id>
WHO_KINDS = ("role", "person", "field")
END, UP, AUTHOR = "end", "up", "author"  # special targets of next / on_reject


@dataclass(frozen=True)
class Who:
    """One entry of a step's `who`: author, manager, chain, admins, role:x, person:x, field:x."""

    kind: str
    arg: str | None
    line: int


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: str  # hours | days | working_days


@dataclass(frozen=True)
class Outcome:
    """A named choice of a decide step, with where the route goes next."""

    id: str
    label: Label
    line: int
    next: str | None = None  # a step id, "end", "up" (one level up the manager chain); None: the next step


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    label: Label
    line: int
    who: tuple[Who, ...] = ()
    mode: str = "any"
    when: Condition | None = None
    deadline: Deadline | None = None
    remind_every: timedelta = timedelta(days=1)
    escalate: bool = False
    next: str | None = None
    on_reject: str = END
    fields: tuple[str, ...] = ()  # work: what the step's people fill in
    outcomes: tuple[Outcome, ...] = ()
    url: str | None = None  # bot
    timeout: float = 10.0
    retries: int = 3
    wait: bool = False  # bot: the answer comes later, by callback
    lines: tuple[tuple[str, int], ...] = ()

    def line_of(self, key: str) -> int:
        return dict(self.lines).get(key, self.line)

    def outcome(self, outcome_id: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.id == outcome_id), None)

    @property
    def is_chain(self) -> bool:
        return any(w.kind == "chain" for w in self.who)


@dataclass(frozen=True)
class Action:
    """Done when a request starts or completes: tasks from rows, an announcement, a notice."""

    kind: str  # tasks_from | announce | notify
    line: int
    field: str | None = None  # tasks_from: the table field
    title: str | None = None  # tasks_from: the column with the task's title
    assignee: str | None = None  # tasks_from: the person column
    due: str | None = None  # tasks_from: the date or datetime column
    text: Label | None = None  # announce, notify: "{field} …" placeholders
    who: tuple[Who, ...] = ()  # notify


@dataclass(frozen=True)
class Form:
    id: str
    title: Label
    file: str
    line: int = 1
    description: Label | None = None
    task_title: Label | None = None  # "Payment to {payee}"; default: the form's title
    fields: tuple[Field, ...] = ()
    route: tuple[Step, ...] = ()
    starters: tuple[Who, ...] = ()  # who may start it (empty: everyone)
    secret_env: str | None = None  # bot steps sign with the secret in this variable…
    secret: str | None = None  # …or with this one (tests, development)
    on_start: tuple[Action, ...] = ()
    on_complete: tuple[Action, ...] = ()
    source: str = ""
    version: str = ""  # sha256 of `source`

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.route if s.id == step_id), None)

    def index(self, step_id: str) -> int:
        """The step's position in the route (rework has none: -1)."""
        return next((i for i, s in enumerate(self.route) if s.id == step_id), -1)

    def after(self, step: Step) -> Step | None:
        """The step written after this one, if any."""
        i = self.index(step.id)
        return self.route[i + 1] if 0 <= i < len(self.route) - 1 else None


# Conditions on field values, written on one line in a form file.
#
#     when: amount > 100000                      # money compares its amount
#     when: amount.currency == USD and urgent    # `and` binds tighter than `or`
#     show_if: doc_type in [other, letter]
#     show_if: reasons has refund                # a multi-choice holds this option
#     when: substitute is set
#
# Operators: == != > >= < <= in, not in, has, is set, is empty; a bare field
# (or `not field`) tests a yes/no. Values are YAML: 100000, RUB, [a, b], 2026-12-31.
# A field that is empty or hidden makes every comparison false except `!=`,
# `not in` and `is empty`.

CLAUSE = re.compile(
    r"^(?P<neg>not\s+)?(?P<field>[a-z][a-z0-9_]*)(?:\.(?P<part>[a-z_]+))?"
    r"(?:\s*(?P<op>==|!=|>=|<=|>|<|not\s+in\b|in\b|has\b|is\s+set\b|is\s+empty\b)\s*(?P<value>.*))?$"
)
NO_VALUE = ("is set", "is empty", "truthy", "falsy")


class ConditionError(ValueError):
    """The text is not a condition; the message says why."""


def parse_condition(text: str, line: int) -> Condition:
    """'amount > 100000 and urgent' -> a Condition, or ConditionError."""
    groups = []
    for group in re.split(r"\s+or\s+", str(text).strip()):
        groups.append(tuple(_clause(part.strip()) for part in re.split(r"\s+and\s+", group)))
    return Condition(tuple(groups), str(text).strip(), line)


def _clause(text: str) -> Clause:
    match = CLAUSE.match(text)
    if not match:
        raise ConditionError(f"cannot read '{text}' as a condition like 'amount > 100000'")
    op = " ".join((match.group("op") or "").split())
    if not op:
        op = "falsy" if match.group("neg") else "truthy"
    elif match.group("neg"):
        raise ConditionError(f"'not' goes only before a yes/no field: '{text}'")
    if op in NO_VALUE:
        if (match.group("value") or "").strip():
            raise ConditionError(f"'{op}' takes no value: '{text}'")
        return Clause(match.group("field"), match.group("part"), op)
    raw = (match.group("value") or "").strip()
    if not raw:
        raise ConditionError(f"'{text}' needs a value after '{op}'")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ConditionError(f"cannot read the value '{raw}'") from None
    if op in ("in", "not in") and not isinstance(value, list):
        raise ConditionError(f"'{op}' needs a list like [a, b]: '{text}'")
    return Clause(match.group("field"), match.group("part"), op, value)


def fields_of(condition: Condition) -> list[Clause]:
    """Every clause, to check the fields they name."""
    return [clause for group in condition.groups for clause in group]


def holds(condition: Condition | None, values: dict) -> bool:
    """Does the condition hold for these values? (None always holds.)"""
    if condition is None:
        return True
    return any(all(_holds(clause, values) for clause in group) for group in condition.groups)


def _holds(clause: Clause, values: dict) -> bool:
    raw = values.get(clause.field)
    if isinstance(raw, dict):
        raw = raw.get(clause.part or "amount")
    empty = raw in (None, "", [], {})
    if clause.op in ("is set", "is empty"):
        return empty == (clause.op == "is empty")
    if clause.op in ("truthy", "falsy"):
        return bool(raw) == (clause.op == "truthy")
    if empty:
        return clause.op in ("!=", "not in")
    if clause.op == "has":
        return _norm(clause.value) in [_norm(v) for v in (raw if isinstance(raw, list) else [raw])]
    if clause.op in ("in", "not in"):
        chosen = {_norm(v) for v in (raw if isinstance(raw, list) else [raw])}
        found = bool(chosen & {_norm(v) for v in clause.value})
        return found == (clause.op == "in")
    return _compare(_norm(raw), clause.op, _norm(clause.value))


def _compare(left, op: str, right) -> bool:
    if isinstance(left, Decimal) != isinstance(right, Decimal):
        left, right = str(left), str(right)  # a number against a word: only == and != make sense
    try:
        return {"==": left == right, "!=": left != right, ">": left > right, ">=": left >= right,
                "<": left < right, "<=": left <= right}[op]
    except TypeError:
        return False


def _norm(value):
    """Numbers as Decimal, dates as ISO text, words as text, so stored JSON and YAML agree."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return value
    return str(value)


# Step deadlines: "24h", "3 days", "2 working days" (Monday to Friday but the org's holidays, in a zone).

DEADLINE = re.compile(r"^\s*(\d{1,3})\s*(h|hours?|d|days?|wd|working\s+days?)\s*$", re.IGNORECASE)
UNITS = {"h": "hours", "d": "days", "w": "working_days"}


def parse_deadline(text: str) -> Deadline | None:
    """'24h' -> Deadline(24, hours); '2 working days' / '2wd' -> working days; else None."""
    match = DEADLINE.match(str(text))
    if not match or int(match.group(1)) == 0:
        return None
    unit = match.group(2).lower()
    key = "w" if unit.startswith(("wd", "working")) else unit[0]
    return Deadline(int(match.group(1)), UNITS[key])


def due_after(start: datetime, deadline: Deadline, tz: str, calendar: Calendar = WEEKDAYS) -> datetime:
    """When a step opened at `start` is due. Working days skip weekends and the org's holidays in
    `tz` (and count the weekend days it works), keeping the time of day (a step opened on Friday
    15:00 with 1 working day is due Monday 15:00, or Tuesday when Monday is a holiday)."""
    if deadline.unit == "hours":
        return start + timedelta(hours=deadline.amount)
    if deadline.unit == "days":
        return start + timedelta(days=deadline.amount)
    local = start.astimezone(zone(tz))
    day, left = local.date(), deadline.amount
    while left:
        day += timedelta(days=1)
        left -= calendar.is_working(day)
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)
