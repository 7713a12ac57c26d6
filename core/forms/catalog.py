"""The forms in force: form files read, checked across the whole form, and gathered by id.

`load_forms` is what the bot runs at start; `check_forms` what `teamflow forms check` prints.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode

from core.config.yamlread import compose
from core.forms.parser import ID, Problem, RouteReader, line
from core.forms.schema import AUTHOR, END, UP, Condition, Form, Label, Step, Who, fields_of


# Form files: read with line numbers, checked, and gathered by form id.
#
# Built-in forms ship in `core/forms/builtin/*.yaml`; a directory named by
# TEAMFLOW_FORMS_DIR adds forms and overrides built-in ones with the same id.
# A file with problems is left out (and `teamflow forms check` names each one).

log = logging.getLogger(__name__)
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
TOP_KEYS = ("id", "title", "description", "task_title", "fields", "route", "starters", "secret", "secret_env",
            "on_start", "on_complete")


def parse_form(text: str, file: str = "<form>") -> tuple[Form | None, list[Problem]]:
    """A form from YAML text: (form, problems). The form is None only when it cannot be read at all;
    a form with problems must not be used (see `check_form`)."""
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(file, mark.line + 1 if mark else 0, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    reader = RouteReader(file)
    if not isinstance(root, MappingNode):
        return None, [Problem(file, 1, "a form file is a mapping with title, fields and route")]
    keys = reader.mapping(root, TOP_KEYS, "the form")
    form_id = reader.text(keys.get("id"), "id") or Path(file).stem
    if not ID.fullmatch(form_id):
        reader.report(keys.get("id", root), f"form id '{form_id}' must be lowercase latin letters, digits and _")
    form = Form(
        id=form_id, file=file, line=line(root),
        title=reader.label(keys.get("title"), "title") or Label.of(form_id),
        description=reader.label(keys.get("description"), "description"),
        task_title=reader.label(keys.get("task_title"), "task_title"),
        fields=reader.fields(keys.get("fields")), route=reader.route(keys.get("route")),
        starters=reader.who(keys.get("starters")),
        secret=reader.text(keys.get("secret"), "secret"), secret_env=reader.text(keys.get("secret_env"), "secret_env"),
        on_start=reader.actions(keys.get("on_start"), "on_start"),
        on_complete=reader.actions(keys.get("on_complete"), "on_complete"),
        source=text, version=version_of(text),
    )
    if "title" not in keys:
        reader.report(root, "the form has no title, e.g. title: {en: Payment request, ru: Заявка на оплату}")
    return form, reader.problems


def version_of(text: str) -> str:
    """The SHA-256 of a form's text: the key its requests remember it by."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_file(path: Path) -> tuple[Form | None, list[Problem]]:
    """Parse one file; an unreadable file is one problem at line 0."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(str(path), 0, f"cannot read the form file: {exc}")]
    return parse_form(text, str(path))


def form_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


@dataclass
class Forms:
    """The forms in force, by id, and the problems of the files left out."""

    by_id: dict[str, Form] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def get(self, form_id: str) -> Form | None:
        return self.by_id.get((form_id or "").strip().lower())

    def all(self) -> list[Form]:
        return sorted(self.by_id.values(), key=lambda f: f.id)


def load_forms(extra_dir: Path | None = None, *, roles: set[str] | None = None,
               people: set[str] | None = None) -> Forms:
    """Built-in forms, then the ones in `extra_dir` (same id: the extra one wins)."""
    forms = Forms()
    for directory in filter(None, (BUILTIN_DIR, extra_dir)):
        for path in form_files(Path(directory)):
            form, problems = read_file(path)
            problems += check_form(form, roles=roles, people=people) if form else []
            if problems or form is None:
                forms.problems += problems
                log.warning("form file %s left out: %s", path, "; ".join(map(str, problems)))
                continue
            forms.by_id[form.id] = form
    return forms


# Checks of a form's route: who acts on each step, where each step leads, loops, dead ends.

REJECTING = ("approve", "bot")


class RouteChecks:
    """Mixed into the form checker: needs `form`, `roles`, `people`, `report` and `condition`."""

    # -- steps --

    def step(self, step: Step) -> None:
        where = f"step '{step.id}'"
        self.condition(step.when, f"when of {where}")
        if step.kind == "bot":
            self.bot(step)
        elif not step.who:
            self.report(step.line, f"nobody can act on {where}: it has no 'who'")
        self.who_list(step.who, where)
        if step.is_chain and len(step.who) > 1:
            self.report(step.line_of("who"), f"{where}: 'chain' climbs one manager at a time and stands alone")
        self.target(step.next, step, "next")
        if step.on_reject != END:
            self.rejection(step)
        for field_id in step.fields:
            if not self.form.field(field_id):
                self.report(step.line_of("fields"), f"{where} fills unknown field '{field_id}'")
        for outcome in step.outcomes:
            if outcome.next == UP and not step.is_chain:
                self.report(outcome.line, f"outcome '{outcome.id}' goes up, but {where} is not a 'chain' step")
            elif outcome.next != UP:
                self.target(outcome.next, step, f"next of outcome '{outcome.id}'", outcome.line)
        if step.escalate and step.deadline is None:
            self.report(step.line_of("escalate"), f"{where} escalates but has no deadline")

    def bot(self, step: Step) -> None:
        if not (step.url or "").startswith(("http://", "https://")):
            self.report(step.line_of("url"), f"bot step '{step.id}' needs a url starting with http:// or https://")
        if not (self.form.secret or self.form.secret_env):
            self.report(step.line, f"bot step '{step.id}' signs its calls: give the form a secret_env (or secret)")

    def rejection(self, step: Step) -> None:
        if step.kind not in REJECTING:
            self.report(step.line_of("on_reject"), f"step '{step.id}' is a {step.kind} step: nobody rejects it")
        elif step.on_reject != AUTHOR:
            index = self.form.index(step.on_reject)
            if index < 0:
                self.report(step.line_of("on_reject"), f"on_reject of step '{step.id}' names unknown step "
                                                       f"'{step.on_reject}' (or use end, author)")
            elif index > self.form.index(step.id):
                self.report(step.line_of("on_reject"), f"on_reject of step '{step.id}' must return to an earlier "
                                                       f"step, not to '{step.on_reject}'")

    def target(self, target: str | None, step: Step, what: str, line: int | None = None) -> None:
        if target and target != END and not self.form.step(target):
            self.report(line or step.line_of("next"), f"{what} of step '{step.id}' names unknown step '{target}'")

    def who_list(self, who: tuple[Who, ...], where: str) -> None:
        for entry in who:
            if entry.kind == "role" and self.roles is not None and entry.arg not in self.roles:
                self.report(entry.line, f"{where}: nobody in the org has the role '{entry.arg}'")
            elif entry.kind == "person" and self.people is not None and entry.arg not in self.people:
                self.report(entry.line, f"{where}: unknown person '{entry.arg}'")
            elif entry.kind == "field":
                target = self.form.field(entry.arg)
                if target is None or target.type != "person":
                    self.report(entry.line, f"{where}: '{entry.arg}' is not a person field of this form")

    # -- the route as a graph --

    def edges(self, step: Step, *, with_rework: bool = False) -> list[str]:
        """Where the route can go after `step` (rework returns only when asked)."""
        following = self.form.after(step)
        default = following.id if following else END
        found = [o.next or default for o in step.outcomes] or [step.next or default]
        if step.when is not None:
            found.append(default)  # a step whose condition fails is passed by
        if with_rework and step.on_reject not in (END, AUTHOR):
            found.append(step.on_reject)
        # An unknown target is reported once where it is written; here it counts as "the next step".
        found = [t if t in (END, UP) or self.form.step(t) else default for t in found]
        return [t for t in found if t not in (END, UP)]

    def cycles(self) -> None:
        """Forward moves (next, outcomes) must never come back: a loop would never end."""
        state: dict[str, str] = {}

        def visit(step: Step, path: list[str]) -> None:
            state[step.id] = "open"
            for target in self.edges(step):
                if state.get(target) == "open":
                    loop = " -> ".join(path[path.index(target):] + [target])
                    self.report(step.line_of("next"), f"the route loops: {loop}")
                elif target not in state:
                    visit(self.form.step(target), path + [target])
            state[step.id] = "done"

        for step in self.form.route:
            if step.id not in state:
                visit(step, [step.id])

    def reachable(self) -> None:
        if not self.form.route:
            return
        seen, todo = set(), [self.form.route[0].id]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += self.edges(self.form.step(current), with_rework=True)
        for step in self.form.route:
            if step.id not in seen:
                self.report(step.line, f"step '{step.id}' can never be reached")


# Checks across a whole form: conditions, people, targets, cycles, actions.
#
# `check_forms(path)` is what `teamflow forms check` prints: every problem of every
# file in a folder (a file is checked as a folder of one), each with its file and
# line. With the org's roles (and people), a role or person nobody holds is a
# problem too: such a step could never be acted on.

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
