"""What the org file says, once read: the team, its people, channels, reminders, calendar, webhooks."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from core.domain.policy import Policy
from core.domain.workdays import Calendar
from core.infra.webhooks import Hook


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
