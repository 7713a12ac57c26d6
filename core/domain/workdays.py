"""The org's working calendar: which days count for "2 working days" deadlines.

Monday to Friday by default; the org file may add public holidays and the
weekend days that are worked instead (Russia moves days off around holidays)::

    holidays: [2026-12-31, 2027-01-01..2027-01-08, 2027-02-23]
    working_days: [2027-01-09]      # a Saturday worked instead of a holiday

Synced into the store (the `setting` table) at start, like the reminder
policy, so every worker counts the same days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from core.domain.models import Setting

KEY = "calendar"


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date] = frozenset()
    working: frozenset[date] = frozenset()  # weekend days worked

    def is_working(self, day: date) -> bool:
        if day in self.working:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def as_json(self) -> dict:
        return {"holidays": sorted(d.isoformat() for d in self.holidays),
                "working": sorted(d.isoformat() for d in self.working)}

    @classmethod
    def from_json(cls, data: dict) -> "Calendar":
        return cls(frozenset(date.fromisoformat(d) for d in data.get("holidays", [])),
                   frozenset(date.fromisoformat(d) for d in data.get("working", [])))


WEEKDAYS = Calendar()


def load(session: Session) -> Calendar:
    """The calendar in force (Monday to Friday when the org file names no holidays)."""
    row = session.get(Setting, KEY)
    return Calendar.from_json(row.value) if row else WEEKDAYS


def save(session: Session, calendar: Calendar) -> None:
    """Store the org file's calendar (at sync)."""
    row = session.get(Setting, KEY) or Setting(key=KEY, value={})
    row.value = calendar.as_json()
    session.add(row)
