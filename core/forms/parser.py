"""Reading a form file's YAML node tree into the declared form (core.forms.schema), with the
line of every value, so each problem names the file and line to fix.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.domain.policy import duration
from core.forms.schema import (
    COLUMN_TYPES, END, FIELD_TYPES, STEP_KINDS, WHO_KINDS, WHO_WORDS, Action, ConditionError, Field, Label, Option,
    Outcome, Step, Who, parse_condition, parse_deadline,
)


# Reading PyYAML's node tree with line numbers: the base of the form parser.
#
# `yaml.compose` keeps where every value starts, so each problem can name the
# file and line to fix, as `teamflow org check` does for the org file.

LANGS = ("en", "ru")
_NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a form file, for an admin to fix."""

    file: str
    line: int  # 1-based; 0 when the file cannot be read at all
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def line(node: Node) -> int:
    return node.start_mark.line + 1


def is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.tag == _NULL)


def construct(node: Node):
    """The plain Python value of a node (numbers, booleans, dates, lists)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


class NodeReader:
    """Collects problems while reading values out of nodes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def report(self, where: Node | int, message: str) -> None:
        self.problems.append(Problem(self.file, where if isinstance(where, int) else line(where), message))

    def mapping(self, node: Node, allowed: Iterable[str], where: str) -> dict[str, Node]:
        """A mapping's values by key, reporting unknown and repeated keys."""
        if not isinstance(node, MappingNode):
            self.report(node, f"{where} must be a mapping of keys to values")
            return {}
        allowed, found = tuple(allowed), {}
        for key_node, value in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else ""
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.report(key_node, f"unknown key '{key}' in {where}{hint}")
            elif key in found:
                self.report(key_node, f"'{key}' appears twice in {where}")
            else:
                found[key] = value
        return found

    def text(self, node: Node | None, what: str) -> str | None:
        """A single value as text; None when absent."""
        if is_null(node):
            return None
        if not isinstance(node, ScalarNode):
            self.report(node, f"{what} must be a single value, not a list or mapping")
            return None
        return str(node.value).strip() or None

    def words(self, node: Node | None, what: str) -> list[tuple[str, int]]:
        """A value or a list of values, each with its line."""
        if is_null(node):
            return []
        items = node.value if isinstance(node, SequenceNode) else [node]
        found = []
        for item in items:
            value = self.text(item, what)
            if value is not None:
                found.append((value, line(item)))
        return found

    def label(self, node: Node | None, what: str) -> Label | None:
        """A text, or {en: …, ru: …}."""
        if is_null(node):
            return None
        if isinstance(node, ScalarNode):
            return Label.of(str(node.value))
        texts = {key: self.text(value, f"{what}.{key}") for key, value in self.mapping(node, LANGS, what).items()}
        texts = {key: value for key, value in texts.items() if value}
        if not texts:
            self.report(node, f"{what} needs a text, e.g. {{en: Amount, ru: Сумма}}")
            return None
        return Label.of(texts)

    def flag(self, node: Node | None, what: str, default: bool = False) -> bool:
        """true / false."""
        if is_null(node):
            return default
        value = construct(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, bool):
            self.report(node, f"{what} must be true or false")
            return default
        return value

    def number(self, node: Node | None, what: str, *, whole: bool = False):
        """A number (a whole one when `whole`), or None."""
        if is_null(node):
            return None
        value = construct(node) if isinstance(node, ScalarNode) else None
        ok = isinstance(value, int) if whole else isinstance(value, (int, float))
        if not ok or isinstance(value, bool):
            self.report(node, f"{what} must be a {'whole ' if whole else ''}number")
            return None
        return value


# The `fields:` of a form file -> Field objects (problems reported by line).

ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
CURRENCY = re.compile(r"[A-Z]{3}")
FIELD_KEYS = ("id", "type", "label", "hint", "required", "min", "max", "pattern", "options", "multiple",
              "currency", "currencies", "columns", "show_if", "required_from", "locked_from")
OPTION_KEYS = ("id", "label")


class FieldReader(NodeReader):
    """Reads field lists; a table's columns are fields too."""

    def labelled(self, node: SequenceNode, keys: tuple[str, ...], what: str, kind: str):
        """Each entry of a list of {id, label, …} (options, outcomes): (item, keys, id, label);
        an entry without a usable id is reported and left out."""
        for item in node.value:
            found = self.mapping(item, keys, what)
            entry_id = self.text(found.get("id"), f"{kind} id")
            if entry_id is None or not ID.fullmatch(entry_id):
                self.report(item, f"{what} needs an id of lowercase latin letters, digits and _")
                continue
            yield item, found, entry_id, self.label(found.get("label"), f"{kind} label") or Label.of(entry_id)

    def fields(self, node: Node | None, *, columns: bool = False) -> tuple[Field, ...]:
        where = "columns" if columns else "fields"
        if is_null(node) or not isinstance(node, SequenceNode) or not node.value:
            self.report(node if node is not None else 1, f"'{where}' must be a list of fields, each with id and type")
            return ()
        return self.unique((self.field(item, COLUMN_TYPES if columns else FIELD_TYPES) for item in node.value),
                           "field")

    def unique(self, parsed, kind: str) -> tuple:
        """The parsed items (fields, steps) that read, each id once; a repeated id is reported."""
        found, seen = [], {}
        for item in parsed:
            if item is None:
                continue
            if item.id in seen:
                self.report(item.line, f"{kind} id '{item.id}' is used twice (first at line {seen[item.id]})")
                continue
            seen[item.id] = item.line
            found.append(item)
        return tuple(found)

    def field(self, node: Node, types: tuple[str, ...]) -> Field | None:
        keys = self.mapping(node, FIELD_KEYS, "a field")
        if not keys:
            return None
        field_id, kind = self.text(keys.get("id"), "id"), self.text(keys.get("type"), "type")
        if field_id is None or not ID.fullmatch(field_id):
            self.report(keys.get("id", node), f"field id '{field_id or ''}' must be lowercase latin letters, "
                                              "digits and _ (like pay_by)")
            return None
        if kind not in types:
            self.report(keys.get("type", node), f"field '{field_id}' has type '{kind or ''}'; "
                                                f"use one of: {', '.join(types)}")
            return None
        label = self.label(keys.get("label"), f"label of '{field_id}'") or Label.of(field_id)
        return Field(
            id=field_id, type=kind, label=label, line=line(node), hint=self.label(keys.get("hint"), "hint"),
            required=self.flag(keys.get("required"), f"required of '{field_id}'"),
            min=self.bound(keys.get("min"), field_id, "min"), max=self.bound(keys.get("max"), field_id, "max"),
            pattern=self.pattern(keys.get("pattern"), field_id),
            options=self.options(keys.get("options"), field_id, kind),
            multiple=self.flag(keys.get("multiple"), f"multiple of '{field_id}'"),
            currency=self.currency(keys.get("currency"), field_id) or "RUB",
            currencies=tuple(self.currencies(keys.get("currencies"), field_id)),
            columns=self.fields(keys.get("columns"), columns=True) if kind == "table" else (),
            show_if=self.condition(keys.get("show_if")),
            required_from=self.text(keys.get("required_from"), "required_from"),
            locked_from=self.text(keys.get("locked_from"), "locked_from"),
        )

    def bound(self, node: Node | None, field_id: str, key: str) -> Decimal | None:
        value = self.number(node, f"{key} of '{field_id}'")
        return None if value is None else Decimal(str(value))

    def pattern(self, node: Node | None, field_id: str) -> str | None:
        value = self.text(node, f"pattern of '{field_id}'")
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                self.report(node, f"pattern of '{field_id}' is not a regular expression: {exc}")
                return None
        return value

    def options(self, node: Node | None, field_id: str, kind: str) -> tuple[Option, ...]:
        if kind not in ("choice", "multi_choice"):
            if not is_null(node):
                self.report(node, f"'{field_id}' is a {kind} field: options belong to choice fields")
            return ()
        if not isinstance(node, SequenceNode) or not node.value:
            self.report(node if node is not None else 1, f"choice field '{field_id}' needs options: a list of "
                                                         "{id: …, label: {en: …, ru: …}}")
            return ()
        return tuple(Option(option_id, label) for _item, _keys, option_id, label
                     in self.labelled(node, OPTION_KEYS, f"an option of '{field_id}'", "option"))

    def currency(self, node: Node | None, field_id: str) -> str | None:
        value = self.text(node, f"currency of '{field_id}'")
        if value is not None and not CURRENCY.fullmatch(value):
            self.report(node, f"currency of '{field_id}' must be a code like RUB, USD or EUR")
            return None
        return value

    def currencies(self, node: Node | None, field_id: str) -> list[str]:
        found = []
        for code, at in self.words(node, f"currencies of '{field_id}'"):
            if CURRENCY.fullmatch(code):
                found.append(code)
            else:
                self.report(at, f"'{code}' in currencies of '{field_id}' is not a code like RUB")
        return found

    def condition(self, node: Node | None):
        """A condition on one line; its fields are checked once every field is known."""
        text = self.text(node, "a condition")
        if text is None:
            return None
        try:
            return parse_condition(text, line(node))
        except ConditionError as exc:
            self.report(node, str(exc))
            return None


# The `route:` and the actions of a form file -> Step and Action objects.

STEP_KEYS = ("id", "kind", "label", "who", "mode", "when", "deadline", "remind_every", "escalate", "next",
             "on_reject", "fields", "outcomes", "url", "timeout", "retries", "wait")
OUTCOME_KEYS = ("id", "label", "next")
ACTION_KEYS = ("tasks_from", "title", "assignee", "due", "announce", "notify", "text")
DEFAULT_MODE = {"acknowledge": "all"}


class RouteReader(FieldReader):
    """Reads steps, who-lists and actions (after FieldReader has read the fields)."""

    def route(self, node: Node | None) -> tuple[Step, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            self.report(node if node is not None else 1, "'route' must be a list of steps, each with id and kind")
            return ()
        return self.unique((self.step(item) for item in node.value), "step")

    def step(self, node: Node) -> Step | None:
        keys = self.mapping(node, STEP_KEYS, "a step")
        if not keys:
            return None
        step_id, kind = self.text(keys.get("id"), "step id"), self.text(keys.get("kind"), "kind")
        if step_id is None or not ID.fullmatch(step_id) or step_id in (END, "up", "author"):
            self.report(keys.get("id", node), f"step id '{step_id or ''}' must be lowercase latin letters, "
                                              "digits and _ (and not end, up or author)")
            return None
        if kind not in STEP_KINDS:
            self.report(keys.get("kind", node), f"step '{step_id}' has kind '{kind or ''}'; "
                                                f"use one of: {', '.join(STEP_KINDS)}")
            return None
        mode = self.text(keys.get("mode"), "mode") or DEFAULT_MODE.get(kind, "any")
        if mode not in ("all", "any"):
            self.report(keys["mode"], f"mode of step '{step_id}' must be all or any")
        return Step(
            id=step_id, kind=kind, line=line(node), mode=mode,
            label=self.label(keys.get("label"), f"label of step '{step_id}'") or Label.of(step_id),
            who=self.who(keys.get("who")), when=self.condition(keys.get("when")),
            deadline=self.deadline(keys.get("deadline"), step_id),
            escalate=self.flag(keys.get("escalate"), "escalate"),
            next=self.text(keys.get("next"), "next"), on_reject=self.text(keys.get("on_reject"), "on_reject") or END,
            fields=tuple(word for word, _ in self.words(keys.get("fields"), "fields")),
            outcomes=self.outcomes(keys.get("outcomes"), step_id, kind),
            url=self.text(keys.get("url"), "url"), wait=self.flag(keys.get("wait"), "wait"),
            timeout=float(self.number(keys.get("timeout"), "timeout") or 10),
            retries=int(self.number(keys.get("retries"), "retries", whole=True) or 3),
            lines=tuple((key, line(value)) for key, value in keys.items()),
            **self.remind(keys.get("remind_every")),
        )

    def deadline(self, node: Node | None, step_id: str):
        text = self.text(node, "deadline")
        if text is None:
            return None
        found = parse_deadline(text)
        if found is None:
            self.report(node, f"deadline of step '{step_id}' must be like 24h, 3 days or 2 working days")
        return found

    def remind(self, node: Node | None) -> dict:
        text = self.text(node, "remind_every")
        if text is None:
            return {}
        every = duration(text)
        if every is None:
            self.report(node, "remind_every must be like 1d, 4h or 30m")
            return {}
        return {"remind_every": every}

    def who(self, node: Node | None) -> tuple[Who, ...]:
        """author, manager, chain, admins, role:<role>, person:<id>, field:<person field>."""
        found = []
        for word, at in self.words(node, "who"):
            kind, _, arg = word.partition(":")
            if (kind in WHO_WORDS and not arg) or (kind in WHO_KINDS and arg.strip()):
                found.append(Who(kind, arg.strip() or None, at))
            else:
                self.report(at, f"who '{word}' must be author, manager, chain, admins, role:<role>, "
                                "person:<id> or field:<person field>")
        return tuple(found)

    def outcomes(self, node: Node | None, step_id: str, kind: str) -> tuple[Outcome, ...]:
        if kind not in ("decide", "bot") or (kind == "bot" and is_null(node)):
            if not is_null(node):
                self.report(node, f"step '{step_id}' is a {kind} step: outcomes belong to decide and bot steps")
            return ()
        if not isinstance(node, SequenceNode) or not node.value:
            self.report(node if node is not None else 1, f"decide step '{step_id}' needs outcomes: a list of "
                                                         "{id: …, label: …, next: …}")
            return ()
        return tuple(Outcome(outcome_id, label, line(item), self.text(keys.get("next"), "next"))
                     for item, keys, outcome_id, label
                     in self.labelled(node, OUTCOME_KEYS, f"an outcome of '{step_id}'", "outcome"))

    def actions(self, node: Node | None, where: str) -> tuple[Action, ...]:
        if is_null(node):
            return ()
        if not isinstance(node, SequenceNode):
            self.report(node, f"'{where}' must be a list of actions (tasks_from, announce, notify)")
            return ()
        return tuple(a for a in (self.action(item, where) for item in node.value) if a is not None)

    def action(self, node: Node, where: str) -> Action | None:
        keys = self.mapping(node, ACTION_KEYS, f"an action of '{where}'")
        kinds = [k for k in ("tasks_from", "announce", "notify") if k in keys]
        if len(kinds) != 1:
            self.report(node, f"each action of '{where}' is one of tasks_from, announce or notify")
            return None
        kind, at = kinds[0], line(node)
        if kind == "tasks_from":
            return Action(kind, at, field=self.text(keys["tasks_from"], "tasks_from"),
                          title=self.text(keys.get("title"), "title"),
                          assignee=self.text(keys.get("assignee"), "assignee"), due=self.text(keys.get("due"), "due"))
        if kind == "announce":
            return Action(kind, at, text=self.label(keys["announce"], "announce"))
        return Action(kind, at, who=self.who(keys["notify"]), text=self.label(keys.get("text"), "text"))
