"""The org's reminder policy: when deadline pings go out.

The org file may say, for example::

    reminders:
      before: [1d, 1h]      # pings before the deadline ("when there is time")
      at_deadline: true
      overdue_every: 1d     # or "off"

It is synced into the store (the `setting` table) at start, so every worker
and every use case reads the same policy, and a task rescheduled later keeps
following what the org says now.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from core.domain.models import Setting

KEY = "reminders"
DURATION = re.compile(r"^\s*(\d{1,4})\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Policy:
    before: tuple[timedelta, ...] = field(default=(timedelta(days=1), timedelta(hours=1)))
    at_deadline: bool = True
    overdue_every: timedelta | None = timedelta(days=1)

    def as_json(self) -> dict:
        return {"before": [int(t.total_seconds()) for t in self.before], "at_deadline": self.at_deadline,
                "overdue_every": int(self.overdue_every.total_seconds()) if self.overdue_every else None}

    @classmethod
    def from_json(cls, data: dict) -> "Policy":
        every = data.get("overdue_every")
        return cls(tuple(timedelta(seconds=s) for s in data.get("before", [])), bool(data.get("at_deadline", True)),
                   timedelta(seconds=every) if every else None)


def duration(text: str) -> timedelta | None:
    """'1d', '2h', '30m', '1w' -> a timedelta; anything else -> None."""
    match = DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        return None
    return timedelta(**{UNITS[match.group(2).lower()]: int(match.group(1))})


_VALUE = select(Setting.__table__.c.value).where(Setting.__table__.c.key == KEY)


def load(session: Session) -> Policy:
    """The policy in force (the default when the org file says nothing)."""
    # The value alone, a plain row (no object to load and track): every task with a deadline asks.
    value = session.execute(_VALUE).scalar()
    return Policy.from_json(value) if value is not None else Policy()


def save(session: Session, policy: Policy) -> None:
    """Store the org file's policy (at sync)."""
    row = session.get(Setting, KEY) or Setting(key=KEY, value={})
    row.value = policy.as_json()
    session.add(row)
