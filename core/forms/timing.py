"""Step deadlines: "24h", "3 days", "2 working days" (Monday to Friday but the org's holidays, in a zone)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from core.domain.clock import zone
from core.domain.workdays import WEEKDAYS, Calendar
from core.forms.schema import Deadline

DEADLINE = re.compile(r"^\s*(\d{1,3})\s*(h|hours?|d|days?|wd|working\s+days?)\s*$", re.IGNORECASE)
UNITS = {"h": "hours", "d": "days", "w": "working_days"}


def parse_deadline(text: str) -> Deadline | None:
    """'24h' -> Deadline(24, hours); '2 working days' / '2wd' -> working days; else None."""
    match = DEADLINE.match(str(text))
    if not match or int(match.group(1)) == 0:
        return None
    unit = match.group(2).lower()
    key = "w" if unit.startswith(("wd", "working")) else unit[0]
    return Deadline(int(match.group(1)), UNITS[key])


def due_after(start: datetime, deadline: Deadline, tz: str, calendar: Calendar = WEEKDAYS) -> datetime:
    """When a step opened at `start` is due. Working days skip weekends and the org's holidays in
    `tz` (and count the weekend days it works), keeping the time of day (a step opened on Friday
    15:00 with 1 working day is due Monday 15:00, or Tuesday when Monday is a holiday)."""
    if deadline.unit == "hours":
        return start + timedelta(hours=deadline.amount)
    if deadline.unit == "days":
        return start + timedelta(days=deadline.amount)
    local = start.astimezone(zone(tz))
    day, left = local.date(), deadline.amount
    while left:
        day += timedelta(days=1)
        left -= calendar.is_working(day)
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)
