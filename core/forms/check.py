"""Checks across a whole form: conditions, people, targets, cycles, actions.

`check_forms(path)` is what `teamflow forms check` prints: every problem of every
file in a folder (a file is checked as a folder of one), each with its file and
line. With the org's roles (and people), a role or person nobody holds is a
problem too: such a step could never be acted on.
"""
from __future__ import annotations

import re
from pathlib import Path

from core.forms.check_route import RouteChecks
from core.forms.conditions import fields_of
from core.forms.loader import form_files, read_file
from core.forms.nodes import Problem
from core.forms.schema import Condition, Form

PLACEHOLDER = re.compile(r"\{(\w+)\}")
PARTS = {"money": ("amount", "currency"), "period": ("from", "to")}
ORDERED = ("number", "money", "date", "datetime", "period")


def check_forms(where: str | Path, *, roles: set[str] | None = None,
                people: set[str] | None = None) -> list[Problem]:
    """Every problem of every form file in a folder (or of one file), plus forms sharing an id;
    FileNotFoundError when nothing is there: a mistyped path must not pass as "ok"."""
    problems, seen = [], {}
    for path in _files(Path(where)):
        form, found = read_file(path)
        found += check_form(form, roles=roles, people=people) if form else []
        problems += sorted(found, key=lambda p: p.line)
        if form and form.id in seen:
            problems.append(Problem(str(path), form.line, f"form id '{form.id}' is also used by {seen[form.id]}"))
        elif form:
            seen[form.id] = str(path)
    return problems


def _files(path: Path) -> list[Path]:
    """The form files of a folder, or the one file named."""
    if path.is_dir():
        return form_files(path)
    if path.exists():
        return [path]
    raise FileNotFoundError(f"no such file or folder: {path}")


def check_form(form: Form, *, roles: set[str] | None = None, people: set[str] | None = None) -> list[Problem]:
    """The problems of one parsed form that need the whole form (or the org) to see."""
    checker = _Checker(form, roles, people)
    checker.run()
    return sorted(checker.problems, key=lambda p: p.line)


class _Checker(RouteChecks):
    def __init__(self, form: Form, roles: set[str] | None, people: set[str] | None) -> None:
        self.form, self.roles, self.people = form, roles, people
        self.problems: list[Problem] = []

    def report(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.form.file, line, message))

    def run(self) -> None:
        for f in self.form.fields:
            self.condition(f.show_if, f"show_if of '{f.id}'", exclude=f.id)
            for key, step_id in (("required_from", f.required_from), ("locked_from", f.locked_from)):
                if step_id and not self.form.step(step_id):
                    self.report(f.line, f"{key} of '{f.id}' names unknown step '{step_id}'")
        for step in self.form.route:
            self.step(step)
        self.who_list(self.form.starters, "starters")
        for action in (*self.form.on_start, *self.form.on_complete):
            self.action(action)
        self.placeholders(self.form.task_title, self.form.line, "task_title")
        self.cycles()
        self.reachable()

    # -- conditions --

    def condition(self, condition: Condition | None, where: str, exclude: str | None = None) -> None:
        for clause in fields_of(condition) if condition else []:
            target = self.form.field(clause.field)
            if target is None or clause.field == exclude:
                self.report(condition.line, f"{where}: unknown field '{clause.field}' in '{condition.text}'")
                continue
            self.clause_types(clause, target, condition, where)

    def clause_types(self, clause, target, condition: Condition, where: str) -> None:
        bad = None
        if clause.part and clause.part not in PARTS.get(target.type, ()):
            bad = f"'{target.id}' is a {target.type} field and has no part '{clause.part}'"
        elif clause.op in (">", ">=", "<", "<=") and target.type not in ORDERED:
            bad = f"'{target.id}' is a {target.type} field: it cannot be compared with {clause.op}"
        elif clause.op in ("truthy", "falsy") and target.type != "yes_no":
            bad = f"'{target.id}' is a {target.type} field, not yes/no: compare it with a value"
        elif clause.op == "has" and target.type != "multi_choice":
            bad = f"'has' works on multi-choice fields; '{target.id}' is a {target.type} field"
        elif target.type in ("number", "money") and clause.part != "currency" and clause.value is not None \
                and not isinstance(clause.value, (int, float)):
            bad = f"'{target.id}' holds a number; '{clause.value}' is not one"
        elif target.options and clause.value is not None:
            wanted = clause.value if isinstance(clause.value, list) else [clause.value]
            unknown = [str(v) for v in wanted if not target.option(str(v))]
            if unknown:
                bad = f"'{target.id}' has no option {', '.join(unknown)}"
        if bad:
            self.report(condition.line, f"{where}: {bad} (in '{condition.text}')")

    # -- actions --

    def action(self, action) -> None:
        if action.kind == "tasks_from":
            self.rows_action(action)
        self.placeholders(action.text, action.line, action.kind)
        self.who_list(action.who, action.kind)
        if action.kind == "notify" and not action.who:
            self.report(action.line, "notify needs whom to tell, e.g. notify: [role:hr]")

    def rows_action(self, action) -> None:
        table = self.form.field(action.field or "")
        if table is None or table.type != "table":
            self.report(action.line, f"tasks_from names '{action.field}', which is not a table field")
            return
        columns = {c.id: c for c in table.columns}
        wanted = (("title", ("text", "long_text")), ("assignee", ("person",)), ("due", ("date", "datetime")))
        for key, allowed in wanted:
            name = getattr(action, key)
            if name and (name not in columns or columns[name].type not in allowed):
                self.report(action.line, f"{key} of tasks_from: '{name}' is not a {' or '.join(allowed)} column "
                                         f"of '{table.id}'")
        if not action.title:
            self.report(action.line, "tasks_from needs title: the column holding each task's title")

    def placeholders(self, label, line: int, where: str) -> None:
        for _lang, text in label.texts if label else ():
            for name in PLACEHOLDER.findall(text):
                if name not in ("author", "id") and not self.form.field(name):
                    self.report(line, f"{where}: unknown field '{{{name}}}'")
