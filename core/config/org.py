"""The org file (org.yaml): who is on the team, checked line by line and synced into the store.

An admin keeps the team in one YAML file. `check_org` lists every problem in it,
each with its line number; `load_org` returns an `Org` only when there are none;
`sync_org` makes the Person table match it. People who left the file are
deactivated, never deleted, so their tasks and history stay.

Line numbers come from PyYAML's node tree (`yaml.compose`), so each problem
points at the entry or value to fix.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlparse

import yaml
from sqlmodel import Session, select
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.config.yamlread import compose
from core.domain import policy as org_policy
from core.domain import workdays
from core.domain.clock import is_valid_zone, to_db
from core.domain.models import Person
from core.domain.policy import Policy, duration
from core.domain.workdays import Calendar
from core.infra import webhooks as org_webhooks
from core.infra.store import ORG_SYNC_LOCK, exclusive
from core.infra.webhooks import Hook

HANDLE_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
TELEGRAM_ID_RE = re.compile(r"[0-9]{1,18}")
TELEGRAM_USERNAME_RE = re.compile(r"@?[A-Za-z0-9_]{5,32}")
LANGUAGES = ("ru", "en")
TOP_KEYS = ("timezone", "language", "people", "channels", "reminders", "webhooks", "holidays", "working_days")
PERSON_KEYS = (
    "id", "name", "email", "telegram", "slack", "manager",
    "roles", "admin", "timezone", "language", "birthday",
)
TOP_LEVEL = "at the top level"
WEBHOOK_KEYS = ("name", "url", "secret_env", "secret", "events", "timeout")
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INVALID = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the org file, for an admin to fix."""

    line: int  # 1-based; 0 when the file cannot be read at all
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class OrgPerson:
    """One person as the org file describes them."""

    handle: str
    name: str
    email: str | None = None
    telegram_id: int | None = None
    telegram_username: str | None = None  # lowercased, without a leading @
    slack_id: str | None = None
    manager: str | None = None  # the manager's handle
    roles: list[str] = field(default_factory=list)
    admin: bool = False
    timezone: str | None = None  # their own; None means the org's
    language: str | None = None  # their own; None means the org's
    birthday: date | None = None
    line: int = 0


@dataclass
class Org:
    """The whole team: defaults, people and the team's group chats."""

    timezone: str
    language: str
    people: list[OrgPerson]
    channels: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    reminders: Policy = field(default_factory=Policy)
    webhooks: list[Hook] = field(default_factory=list)
    calendar: Calendar = field(default_factory=Calendar)

    def person(self, handle: str) -> OrgPerson | None:
        """The person with this handle, or None."""
        return next((p for p in self.people if p.handle == handle), None)

    def timezone_of(self, person: OrgPerson) -> str:
        """The person's own time zone, else the org's."""
        return person.timezone or self.timezone

    def language_of(self, person: OrgPerson) -> str:
        """The person's own language, else the org's."""
        return person.language or self.language


class OrgError(Exception):
    """The org file has problems; `.problems` lists them all."""

    def __init__(self, path: str | Path, problems: list[Problem]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        super().__init__("\n".join(f"{self.path}: {p}" for p in self.problems))


# --- reading -----------------------------------------------------------------


def check_org(
    path: str | Path, *, default_timezone: str = "UTC", default_language: str = "en"
) -> list[Problem]:
    """Every problem in the org file at `path`; an empty list means it is good."""
    _org, problems = _read_org(path, default_timezone, default_language)
    return problems


def load_org(
    path: str | Path, *, default_timezone: str = "UTC", default_language: str = "en"
) -> Org:
    """The org in the file at `path`; raises OrgError listing every problem."""
    org, problems = _read_org(path, default_timezone, default_language)
    if problems or org is None:
        raise OrgError(path, problems)
    return org


def _read_org(path: str | Path, default_timezone: str, default_language: str) -> tuple[Org | None, list[Problem]]:
    """Read the file and parse it; an unreadable file is one problem at line 0."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(0, "cannot read the org file: it is not UTF-8 text")]
    except OSError as exc:
        return None, [Problem(0, f"cannot read the org file: {exc.strerror or exc}")]
    return parse_org(text, default_timezone=default_timezone, default_language=default_language)


def parse_org(
    text: str, *, default_timezone: str = "UTC", default_language: str = "en"
) -> tuple[Org | None, list[Problem]]:
    """Parse org YAML: (org, []) when it is clean, else (None, every problem by line)."""
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc)]
    parser = _Parser(default_timezone, default_language)
    org = parser.org(root)
    problems = sorted(parser.problems, key=lambda p: p.line)
    return (None if problems else org), problems


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    """A YAML syntax error as a Problem at the line PyYAML points to."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    reason = getattr(exc, "problem", None) or str(exc)
    return Problem(mark.line + 1 if mark else 0, f"not valid YAML: {reason}")


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


class _Parser:
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

    # -- the document --

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

    def reminders(self, node: Node | None) -> Policy:
        """`reminders: {before: [1d, 1h], at_deadline: true, overdue_every: 1d | off}`."""
        if node is None or _is_null(node):
            return Policy()
        if not isinstance(node, MappingNode):
            self.report(node, "reminders must be a mapping with before, at_deadline and overdue_every")
            return Policy()
        fields = self.fields(node, ("before", "at_deadline", "overdue_every"), "in reminders")
        default = Policy()
        before = default.before
        if "before" in fields:
            items = fields["before"].value if isinstance(fields["before"], SequenceNode) else None
            if items is None:
                self.report(fields["before"], "reminders.before must be a list like [1d, 1h]")
            else:
                before = tuple(d for d in (self.duration(item, "reminders.before") for item in items) if d)
        at_deadline = default.at_deadline
        if "at_deadline" in fields:
            at_deadline = str(fields["at_deadline"].value).lower() in ("true", "yes", "on")
            if str(fields["at_deadline"].value).lower() not in ("true", "false", "yes", "no", "on", "off"):
                self.report(fields["at_deadline"], "reminders.at_deadline must be true or false")
        every = default.overdue_every
        if "overdue_every" in fields:
            node_every = fields["overdue_every"]
            off = str(node_every.value).lower() in ("off", "false", "no", "never")
            every = None if off else self.duration(node_every, "reminders.overdue_every")
        return Policy(before, at_deadline, every)

    def days(self, node: Node | None, key: str) -> frozenset[date]:
        """`holidays:` / `working_days:`: a list of dates (2026-12-31) and ranges (2027-01-01..2027-01-08)."""
        if node is None or _is_null(node):
            return frozenset()
        items = _scalars(node) if isinstance(node, SequenceNode) else None
        if items is None:
            self.report(node, f"{key} must be a list of dates like [2026-12-31, 2027-01-01..2027-01-08]")
            return frozenset()
        found: set[date] = set()
        for item, text in zip(node.value, items):
            first, _, last = text.partition("..")
            start, end = _iso_date(first), _iso_date(last or first)
            if start is _INVALID or end is _INVALID or end < start or (end - start).days > 366:
                self.report(item, f"{key}: '{text}' is not a date (2026-12-31) or a range (2027-01-01..2027-01-08)")
                continue
            found.update(start + timedelta(days=n) for n in range((end - start).days + 1))
        return frozenset(found)

    def duration(self, node: Node, where: str) -> timedelta | None:
        """'1d', '2h', '30m', '1w', or a problem naming the line."""
        value = duration(node.value) if isinstance(node, ScalarNode) else None
        if value is None:
            self.report(node, f"{where}: '{getattr(node, 'value', '')}' is not a duration like 1d, 2h, 30m or 1w")
        return value

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

    # -- people --

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

    # -- channels --

    def channels(self, node: Node | None) -> dict[str, dict[str, list[str]]]:
        """`channels`: channel name -> platform -> chat ids."""
        if _is_null(node):
            return {}
        if not isinstance(node, MappingNode):
            self.report(node, "'channels' must map channel names to platforms, "
                              "e.g. announcements: {telegram: -1001234567890}")
            return {}
        fields = self.fields(node, None, "in 'channels'")
        return {name: self.channel(name, value) for name, value in fields.items()}

    def channel(self, name: str, node: Node) -> dict[str, list[str]]:
        """One channel: platform -> chat ids."""
        if not isinstance(node, MappingNode):
            self.report(node, f"channel '{name}' must map platforms to chat ids, e.g. telegram: -1001234567890")
            return {}
        fields = self.fields(node, None, f"in channel '{name}'")
        return {platform: self.chat_ids(value, name, platform) for platform, value in fields.items()}

    def chat_ids(self, node: Node, name: str, platform: str) -> list[str]:
        """A chat id or a list of them, as text."""
        if isinstance(node, ScalarNode) and not _is_null(node):
            return [node.value.strip()]
        ids = _scalars(node) if isinstance(node, SequenceNode) else None
        if ids is None:
            self.report(node, f"{platform} of channel '{name}' must be a chat id or a list of chat ids")
            return []
        return ids

    # -- webhooks --

    def webhooks(self, node: Node | None) -> list[Hook]:
        """`webhooks: [{url, secret_env (or secret), events, name, timeout}]` (see core/infra/webhooks.py)."""
        if _is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.report(node, "'webhooks' must be a list, each entry starting with '- url: https://...'")
            return []
        first: dict[str, int] = {}  # each hook's name (else url) -> its line
        hooks = [self.webhook(item, first) for item in node.value]
        return [hook for hook in hooks if hook is not None]

    def webhook(self, node: Node, first: dict[str, int]) -> Hook | None:
        """One entry of `webhooks` -> a Hook (None when it has a problem)."""
        if not isinstance(node, MappingNode):
            self.report(node, "each webhook must be a mapping with url, secret_env and events")
            return None
        before = len(self.problems)
        where = f"in the webhook at line {_line(node)}"
        fields = self.fields(node, WEBHOOK_KEYS, where)
        url = self.text(fields.get("url"), "url", where)
        if url is None and not isinstance(fields.get("url"), (MappingNode, SequenceNode)):
            self.report(fields.get("url") or node, "webhook without 'url'")
        elif url is not None and not _is_http_url(url):
            self.report(fields["url"], f"url '{url}' of a webhook must be an http(s) URL like "
                                       "https://example.com/hooks/teamflow")
        elif url is not None and len(url) > 500:
            self.report(fields["url"], "the url of a webhook must be at most 500 characters")
        name = self.text(fields.get("name"), "name", where)
        if name is not None and len(name) > 100:
            self.report(fields["name"], "the name of a webhook must be at most 100 characters")
        key = name or url
        if key is not None and key in first:
            self.report(node, f"duplicate webhook '{key}' (first at line {first[key]}): give each its own 'name'")
        elif key is not None:
            first[key] = _line(node)
        secret_env = self.text(fields.get("secret_env"), "secret_env", where)
        secret = self.text(fields.get("secret"), "secret", where)
        if secret_env and secret:
            self.report(fields["secret"], "give a webhook secret_env or secret, not both")
        elif secret_env and not ENV_NAME_RE.fullmatch(secret_env):
            self.report(fields["secret_env"], f"secret_env '{secret_env}' must name an environment variable, "
                                              "like TEAMFLOW_HOOK_SECRET")
        elif secret and len(secret) > 500:
            self.report(fields["secret"], "the secret of a webhook must be at most 500 characters")
        elif not (secret_env or secret):
            self.report(fields.get("secret_env") or fields.get("secret") or node,
                        "webhook without a secret to sign with: add secret_env: NAME "
                        "(the environment variable holding it)")
        events = self.webhook_events(fields.get("events"), node)
        timeout = self.webhook_timeout(fields.get("timeout"))
        if len(self.problems) > before or url is None:
            return None
        return Hook(url=url, events=events, name=name, secret_env=secret_env, secret=secret, timeout=timeout,
                    line=_line(node))

    def webhook_events(self, node: Node | None, entry: MappingNode) -> tuple[str, ...]:
        """The event names (or task.*, request.*, "*") a webhook is sent."""
        known = (*org_webhooks.NAMES, *org_webhooks.PATTERNS)
        if _is_null(node):
            self.report(entry if node is None else node, "webhook without 'events': name the events to send, "
                                                         "e.g. events: [task.created, task.done]")
            return ()
        names = _scalars(node) if isinstance(node, SequenceNode) else None
        if names is None:
            self.report(node, "the events of a webhook must be a list, e.g. [task.created, task.done]")
            return ()
        if not names:
            self.report(node, "the events of a webhook are empty: name at least one, or \"*\" for all")
        for item, name in zip(node.value, names):
            if name not in known:
                hint = _hint(name, known) or f" (known events: {', '.join(known)})"
                self.report(item, f"unknown webhook event '{name}'{hint}")
        return tuple(dict.fromkeys(names))

    def webhook_timeout(self, node: Node | None) -> float:
        """Seconds to wait for a receiver: 1 to 60."""
        if _is_null(node):
            return org_webhooks.DEFAULT_TIMEOUT
        value = _construct(node) if isinstance(node, ScalarNode) else _INVALID
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= org_webhooks.MAX_TIMEOUT:
            self.report(node, f"the timeout of a webhook must be a number of seconds from 1 to "
                              f"{org_webhooks.MAX_TIMEOUT:g}")
            return org_webhooks.DEFAULT_TIMEOUT
        return float(value)

    # -- checks across people --

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


# --- syncing into the store -----------------------------------------------------

_Identity = tuple[int | None, str | None]  # (telegram_id, slack_id)


def sync_org(session: Session, org: Org, *, now: datetime) -> None:
    """Make the Person table match `org` in the caller's session (flushes, never commits).

    Rows are matched by handle. People in the file are (re)activated; people no
    longer in it are deactivated, never deleted. A telegram id the bot learned is
    kept while the file still gives the same username and no id.

    Workers starting together each sync the same file: the first holds a lock until
    the caller commits, the others wait for it and then find every row in place
    (instead of inserting the same people and webhooks again and failing).
    """
    exclusive(session.connection(), ORG_SYNC_LOCK)  # before the first read: see the winner's rows
    rows = {row.handle: row for row in session.exec(select(Person)).all()}
    identities = _planned_identities(org, rows)
    _release_identities(session, rows, identities)
    for person in org.people:
        rows[person.handle] = _upsert(session, rows.get(person.handle), person, org, identities[person.handle], now)
    session.flush()  # new rows get ids before managers point at them
    _link_managers(org, rows)
    _deactivate_missing(org, rows)
    org_policy.save(session, org.reminders)
    org_webhooks.save(session, org.webhooks, now)
    workdays.save(session, org.calendar)
    session.flush()


def _planned_identities(org: Org, rows: dict[str, Person]) -> dict[str, _Identity]:
    """Each person's (telegram_id, slack_id) after the sync; the file's ids win over learned ones."""
    claimed = {p.telegram_id: p.handle for p in org.people if p.telegram_id is not None}
    plan: dict[str, _Identity] = {}
    for person in org.people:
        telegram_id = person.telegram_id
        if telegram_id is None:
            telegram_id = _learned_telegram_id(person, rows.get(person.handle))
        if claimed.get(telegram_id, person.handle) != person.handle:
            telegram_id = None
        plan[person.handle] = (telegram_id, person.slack_id)
    return plan


def _learned_telegram_id(person: OrgPerson, row: Person | None) -> int | None:
    """The numeric id the bot stored, if the file still names the same username."""
    if row is None or row.telegram_id is None or not person.telegram_username:
        return None
    stored = (row.telegram_username or "").lstrip("@").lower()
    return row.telegram_id if stored == person.telegram_username else None


def _release_identities(session: Session, rows: dict[str, Person], plan: dict[str, _Identity]) -> None:
    """Clear ids that move to someone else, so unique columns never clash mid-flush."""
    telegram_owner = {tg: handle for handle, (tg, _slack) in plan.items() if tg is not None}
    slack_owner = {slack: handle for handle, (_tg, slack) in plan.items() if slack is not None}
    changed = False
    for handle, row in rows.items():
        if row.telegram_id is not None and telegram_owner.get(row.telegram_id, handle) != handle:
            row.telegram_id, changed = None, True
        if row.slack_id is not None and slack_owner.get(row.slack_id, handle) != handle:
            row.slack_id, changed = None, True
    if changed:
        session.flush()


def _upsert(
    session: Session, row: Person | None, person: OrgPerson, org: Org, identity: _Identity, now: datetime
) -> Person:
    """Create or update one person's row from the file (the manager comes later)."""
    if row is None:
        row = Person(handle=person.handle, name=person.name, created_at=to_db(now))
        session.add(row)
    row.name, row.email = person.name, person.email
    row.telegram_id, row.slack_id = identity
    row.telegram_username = person.telegram_username
    # Only what the file says explicitly; otherwise keep the person's own
    # /settings choice (or None, meaning "the org's default").
    row.timezone = person.timezone or row.timezone
    row.language = person.language or row.language
    row.roles = list(person.roles)
    row.birthday = person.birthday
    row.is_admin, row.active = person.admin, True
    return row


def _link_managers(org: Org, rows: dict[str, Person]) -> None:
    """Point each person at their manager's row (all rows exist by now)."""
    for person in org.people:
        manager = rows.get(person.manager) if person.manager else None
        rows[person.handle].manager_id = manager.id if manager else None


def _deactivate_missing(org: Org, rows: dict[str, Person]) -> None:
    """People no longer in the file stay in the store, inactive."""
    in_file = {person.handle for person in org.people}
    for handle, row in rows.items():
        if handle not in in_file and row.invited_by is None:
            row.active = False
