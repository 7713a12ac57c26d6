"""What a form file declares, as plain data: the fields (core/forms/fields.py), the route's
steps, the actions on start and completion, and the form itself.

Everything here is immutable once loaded and knows its line in the file, so
checks can point at it. Nothing here touches the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.forms.fields import COLUMN_TYPES, FIELD_TYPES, Clause, Condition, Field, Label, Option  # noqa: F401

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
