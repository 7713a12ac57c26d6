"""The org file's sections beside its people: reminders, holidays and working days, channels, webhooks."""
from __future__ import annotations

import re
from datetime import date, timedelta

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.config.org_nodes import _INVALID, _construct, _hint, _is_http_url, _is_null, _iso_date, _line, _scalars
from core.domain.policy import Policy, duration
from core.infra import webhooks as org_webhooks
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
_BOOL_TAG = "tag:yaml.org,2002:bool"


class _Sections:
    """Mixed into the parser: one method per section (and per part of one)."""

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
