"""Reading the org file's node tree: lines, values, near-miss keys, manager cycles, dates and URLs."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable
from urllib.parse import urlparse

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.config.org_model import OrgPerson

_NULL_TAG = "tag:yaml.org,2002:null"
_INVALID = object()


def _line(node: Node) -> int:
    """The 1-based line a node starts on."""
    return node.start_mark.line + 1


def _is_null(node: Node | None) -> bool:
    """True for an absent value or an empty / `null` / `~` scalar."""
    return node is None or (isinstance(node, ScalarNode) and node.tag == _NULL_TAG)


def _construct(node: Node) -> Any:
    """The Python value of a node (date, bool, ...), or _INVALID when it cannot be built."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError):
        return _INVALID
    finally:
        loader.dispose()


def _peek_id(node: MappingNode) -> str | None:
    """A person's `id` as written, before it is checked (to name them in messages)."""
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
            return None if _is_null(value) else value.value
    return None


def _hint(key: str, allowed: Iterable[str]) -> str:
    """' (did you mean 'people'?)' for a near-miss key, else ''."""
    close = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _scalars(node: SequenceNode) -> list[str] | None:
    """The texts of a list of plain values, or None if any item is not one."""
    if all(isinstance(item, ScalarNode) and not _is_null(item) for item in node.value):
        return [item.value.strip() for item in node.value]
    return None


def _cycles(graph: dict[str, str], order: list[str]) -> list[list[str]]:
    """Each cycle in a person -> manager graph once, starting at its earliest person."""
    walked: dict[str, str] = {}
    cycles = []
    for start in order:
        path, node = [], start
        while node in graph and node not in walked:
            walked[node] = start
            path.append(node)
            node = graph[node]
        if walked.get(node) == start:
            cycles.append(_rotate(path[path.index(node):], order))
    return cycles


def _rotate(cycle: list[str], order: list[str]) -> list[str]:
    """The cycle rotated to begin with whoever comes first in the file."""
    first = min(range(len(cycle)), key=lambda i: order.index(cycle[i]))
    return cycle[first:] + cycle[:first]


@dataclass
class _Entry:
    """A parsed person plus the line of each of their keys (for cross-checks)."""

    person: OrgPerson
    lines: dict[str, int]
    duplicate: bool = False

    def line(self, key: str) -> int:
        """The line of `key` in this person's entry, else the entry's first line."""
        return self.lines.get(key, self.person.line)


def _is_http_url(text: str) -> bool:
    """An absolute http(s) URL with a host and no spaces."""
    parsed = urlparse(text)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and not any(c.isspace() for c in text)


def _iso_date(text: str) -> date | object:
    """A quoted '1990-05-17' as a date, else _INVALID."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return _INVALID
