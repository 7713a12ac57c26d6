"""Reading PyYAML's node tree with line numbers: the base of the form parser.

`yaml.compose` keeps where every value starts, so each problem can name the
file and line to fix, as `teamflow org check` does for the org file.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.forms.schema import Label
from core.config.yamlread import compose  # noqa: F401  (the form parser's reader)

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
