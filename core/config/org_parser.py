"""The org file's parser: one walk over the node tree collecting every problem with its line."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, Iterable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.config.org_model import Org, OrgPerson, Problem
from core.config.org_nodes import (
    _INVALID, _construct, _cycles, _Entry, _hint, _is_null, _iso_date, _line, _peek_id, _scalars,
)
from core.config.org_sections import (
    _BOOL_TAG, HANDLE_RE, LANGUAGES, PERSON_KEYS, TELEGRAM_ID_RE, TELEGRAM_USERNAME_RE, TOP_KEYS, TOP_LEVEL, _Sections,
)
from core.domain.clock import is_valid_zone
from core.domain.workdays import Calendar


class _Parser(_Sections):
    """Walks the node tree once, collecting every problem with its line."""

    def __init__(self, default_timezone: str, default_language: str) -> None:
        self.default_timezone = default_timezone
        self.default_language = default_language
        self.problems: list[Problem] = []
        self.entries: list[_Entry] = []

    def report(self, where: Node | int, message: str) -> None:
        """Record a problem at a node's line (or at a line number)."""
        line = where if isinstance(where, int) else _line(where)
        self.problems.append(Problem(line, message))

    def org(self, root: Node | None) -> Org | None:
        """The whole document -> an Org (best effort; problems land in self.problems)."""
        if not isinstance(root, MappingNode):
            self.report(
                1 if root is None else root,
                "the file must be a mapping with 'people' (and optionally 'timezone', 'language', 'channels')",
            )
            return None
        fields = self.fields(root, TOP_KEYS, TOP_LEVEL)
        zone_name = self.zone(fields.get("timezone"), TOP_LEVEL) or self.default_timezone
        language = self.language(fields.get("language"), TOP_LEVEL) or self.default_language
        people = self.people(fields.get("people"), root)
        channels = self.channels(fields.get("channels"))
        reminders = self.reminders(fields.get("reminders"))
        webhooks = self.webhooks(fields.get("webhooks"))
        calendar = Calendar(self.days(fields.get("holidays"), "holidays"),
                            self.days(fields.get("working_days"), "working_days"))
        self.check_links()
        return Org(timezone=zone_name, language=language, people=people, channels=channels, reminders=reminders,
                   webhooks=webhooks, calendar=calendar)

    def fields(self, node: MappingNode, allowed: Iterable[str] | None, where: str) -> dict[str, Node]:
        """A mapping's values by key; reports odd, duplicate and (if `allowed`) unknown keys."""
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, allowed, where, found)
            if key is not None:
                found[key] = value_node
        return found

    def key(self, node: Node, allowed: Iterable[str] | None, where: str, found: dict) -> str | None:
        """A checked key, or None after reporting why it is unusable."""
        if not isinstance(node, ScalarNode) or _is_null(node):
            self.report(node, f"keys must be plain words {where}")
        elif allowed is not None and node.value not in allowed:
            self.report(node, f"unknown key '{node.value}' {where}{_hint(node.value, allowed)}")
        elif node.value in found:
            self.report(node, f"duplicate key '{node.value}' {where}")
        else:
            return node.value
        return None

    def people(self, node: Node | None, root: MappingNode) -> list[OrgPerson]:
        """The `people` list; each entry is checked on its own."""
        if node is None:
            self.report(root, "no 'people' list: the org needs at least one person")
            return []
        if not isinstance(node, SequenceNode):
            self.report(node, "'people' must be a list of persons, each starting with '- id: ...'")
            return []
        if not node.value:
            self.report(node, "'people' is empty: the org needs at least one person")
        found = [self.person(item) for item in node.value]
        return [person for person in found if person is not None]

    def person(self, node: Node) -> OrgPerson | None:
        """One entry of `people` -> an OrgPerson (None when it has no usable id)."""
        if not isinstance(node, MappingNode):
            self.report(node, "each person must be a mapping with at least 'id' and 'name'")
            return None
        raw_id = _peek_id(node)
        label = f"'{raw_id}'" if raw_id else f"the person at line {_line(node)}"
        fields = self.fields(node, PERSON_KEYS, f"for {label}")
        handle = self.handle(fields.get("id"), node)
        if handle is None:
            self.person_values(fields, node, label)  # still report their other problems
            return None
        person = OrgPerson(handle=handle, line=_line(node), **self.person_values(fields, node, label))
        self.entries.append(_Entry(person, {key: _line(value) for key, value in fields.items()}))
        return person

    def person_values(self, fields: dict[str, Node], node: MappingNode, label: str) -> dict[str, Any]:
        """Every field of a person but the handle, each checked."""
        telegram_id, telegram_username = self.telegram(fields.get("telegram"), label)
        return dict(
            name=self.name(fields.get("name"), node, label),
            email=self.email(fields.get("email"), label),
            telegram_id=telegram_id,
            telegram_username=telegram_username,
            slack_id=self.text(fields.get("slack"), "slack", f"for {label}"),
            manager=self.text(fields.get("manager"), "manager", f"for {label}"),
            roles=self.roles(fields.get("roles"), label),
            admin=self.admin(fields.get("admin"), label),
            timezone=self.zone(fields.get("timezone"), f"for {label}"),
            language=self.language(fields.get("language"), f"for {label}"),
            birthday=self.birthday(fields.get("birthday"), label),
        )

    def handle(self, node: Node | None, entry: MappingNode) -> str | None:
        """The person's `id` as written (reported when missing or malformed)."""
        if _is_null(node):
            self.report(entry, "person without 'id'")
            return None
        if not isinstance(node, ScalarNode):
            self.report(node, "'id' must be a single word like 'olga'")
            return None
        if not HANDLE_RE.fullmatch(node.value):
            self.report(node, f"bad id '{node.value}': use 1-64 lowercase latin letters, digits, '_', '.' or '-', "
                              "starting with a letter or digit")
        return node.value

    def text(self, node: Node | None, key: str, where: str) -> str | None:
        """A value's text as written; None when absent or empty; reports lists and mappings."""
        if _is_null(node):
            return None
        if not isinstance(node, ScalarNode):
            self.report(node, f"'{key}' {where} must be a single value, not a list or mapping")
            return None
        return node.value.strip() or None

    def name(self, node: Node | None, entry: MappingNode, label: str) -> str:
        """The person's display name (required)."""
        name = self.text(node, "name", f"for {label}")
        if name is None and (node is None or isinstance(node, ScalarNode)):
            self.report(entry if node is None else node, f"person {label} has no 'name'")
        return name or ""

    def email(self, node: Node | None, label: str) -> str | None:
        """An email address: at least it has an '@'."""
        email = self.text(node, "email", f"for {label}")
        if email is not None and "@" not in email:
            self.report(node, f"email '{email}' of {label} has no '@'")
        return email

    def telegram(self, node: Node | None, label: str) -> tuple[int | None, str | None]:
        """(numeric id, username) from a `telegram` value; at most one of them is set."""
        value = self.text(node, "telegram", f"for {label}")
        if value is None:
            return None, None
        if TELEGRAM_ID_RE.fullmatch(value):
            return int(value), None
        if TELEGRAM_USERNAME_RE.fullmatch(value):
            return None, value.lstrip("@").lower()
        self.report(node, f"telegram '{value}' of {label} is neither a numeric user id "
                          "nor a username (5-32 latin letters, digits or '_')")
        return None, None

    def roles(self, node: Node | None, label: str) -> list[str]:
        """A list of role words like [analyst, lawyer]."""
        if _is_null(node):
            return []
        roles = _scalars(node) if isinstance(node, SequenceNode) else None
        if roles is None:
            self.report(node, f"roles of {label} must be a list of words, e.g. [analyst]")
            return []
        return roles

    def admin(self, node: Node | None, label: str) -> bool:
        """`admin: true` or `admin: false` (absent means false)."""
        if _is_null(node):
            return False
        if isinstance(node, ScalarNode) and node.tag == _BOOL_TAG:
            return bool(_construct(node))
        self.report(node, f"admin of {label} must be true or false")
        return False

    def zone(self, node: Node | None, where: str) -> str | None:
        """An IANA time zone name like Europe/Moscow, or None when absent."""
        value = self.text(node, "timezone", where)
        if value is not None and not is_valid_zone(value):
            self.report(node, f"unknown time zone '{value}' {where} (use a name like Europe/Moscow)")
            return None
        return value

    def language(self, node: Node | None, where: str) -> str | None:
        """'ru' or 'en', or None when absent."""
        value = self.text(node, "language", where)
        if value is not None and value not in LANGUAGES:
            self.report(node, f"language '{value}' {where} must be ru or en")
            return None
        return value

    def birthday(self, node: Node | None, label: str) -> date | None:
        """A date written like 1990-05-17, or None when absent."""
        if _is_null(node):
            return None
        value = _construct(node) if isinstance(node, ScalarNode) else _INVALID
        if isinstance(value, str):
            value = _iso_date(value)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        shown = f" '{node.value}'" if isinstance(node, ScalarNode) else ""
        self.report(node, f"birthday{shown} of {label} is not a date like 1990-05-17")
        return None

    def check_links(self) -> None:
        """Checks that need every person: duplicates, managers, cycles, identities."""
        first = self.check_duplicate_handles()
        self.check_managers(first)
        self.check_cycles(first)
        self.check_unique("telegram", lambda p: p.telegram_id)
        self.check_unique("telegram", lambda p: p.telegram_username)
        self.check_unique("slack", lambda p: p.slack_id)

    def check_duplicate_handles(self) -> dict[str, _Entry]:
        """Report each repeated id at its second use; returns the first use of each id."""
        first: dict[str, _Entry] = {}
        for entry in self.entries:
            handle = entry.person.handle
            if handle in first:
                entry.duplicate = True
                self.report(entry.line("id"), f"duplicate id '{handle}' (first at line {first[handle].line('id')})")
            else:
                first[handle] = entry
        return first

    def check_managers(self, first: dict[str, _Entry]) -> None:
        """Each manager must be someone else in the file."""
        for entry in first.values():
            handle, manager = entry.person.handle, entry.person.manager
            if manager is None:
                continue
            if manager == handle:
                self.report(entry.line("manager"), f"'{handle}' is their own manager")
            elif manager not in first:
                self.report(entry.line("manager"), f"unknown manager '{manager}' for '{handle}'")

    def check_cycles(self, first: dict[str, _Entry]) -> None:
        """Report each loop in the manager chain once, at its first person's manager line."""
        graph = {
            handle: entry.person.manager
            for handle, entry in first.items()
            if entry.person.manager in first and entry.person.manager != handle
        }
        for cycle in _cycles(graph, list(first)):
            chain = " -> ".join(cycle + cycle[:1])
            self.report(first[cycle[0]].line("manager"), f"manager cycle: {chain}")

    def check_unique(self, key: str, value_of: Callable[[OrgPerson], object]) -> None:
        """No two people may share one chat identity."""
        seen: dict[object, _Entry] = {}
        for entry in (e for e in self.entries if not e.duplicate):
            value = value_of(entry.person)
            if value is None:
                continue
            if value in seen:
                other = seen[value]
                self.report(entry.line(key), f"{key} '{value}' of '{entry.person.handle}' is already used "
                                             f"by '{other.person.handle}' (line {other.line(key)})")
            else:
                seen[value] = entry
