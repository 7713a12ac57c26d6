"""Reading a date, a date and time, or a period typed in chat, in English or Russian.

Numeric forms first (31.12.2026, 2026-12-31, 31.12), then today / tomorrow /
yesterday, then natural language through core.chat.timeparse ("friday", "завтра 15:00").
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from core.chat.timeparse import parse_when
from core.domain.clock import zone
from core.domain.errors import BadInput
from core.presentation.i18n import N_

DATE = N_("I can't read “%(text)s” as a date. Type it like 31.12.2026, 2026-12-31 or “tomorrow”.")
DATETIME = N_("I can't read “%(text)s” as a date and time. Type it like 31.12.2026 15:00 or “tomorrow 15:00”.")
PERIOD = N_("Give the period as two dates, like 01.12.2026 - 14.12.2026.")
PERIOD_ORDER = N_("The period ends before it starts: %(start)s - %(end)s.")
ECHO = 40
TODAY = {"today": 0, "сегодня": 0, "yesterday": -1, "вчера": -1, "tomorrow": 1, "завтра": 1}
NUMERIC_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4}))?$")
PERIOD_SPLIT = re.compile(r"\s+[-–—]\s+|\s*[–—]\s*|\s*\.\.\s*|\s+(?:to|till|until|по|до)\s+", re.IGNORECASE)
PERIOD_START = re.compile(r"^(?:from|с|со)\s+", re.IGNORECASE)


def read_date(text: str, *, now: datetime, tz: str) -> date:
    """'31.12.2026', '2026-12-31', '31.12', 'today', 'завтра', 'friday' -> a date."""
    cleaned = (text or "").strip().lower()
    local_today = now.astimezone(zone(tz)).date()
    if cleaned in TODAY:
        return local_today + timedelta(days=TODAY[cleaned])
    try:
        found = _numeric_date(cleaned, local_today)
        if found is not None:
            return found
        return parse_when(cleaned, now=now, tz=tz).astimezone(zone(tz)).date()
    except (ValueError, BadInput):
        raise BadInput(DATE, text=(text or "")[:ECHO]) from None


def _numeric_date(text: str, today: date) -> date | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    match = NUMERIC_DATE.match(text)
    if not match:
        return None
    year = int(match.group(3)) if match.group(3) else today.year
    return date(year + 2000 if year < 100 else year, int(match.group(2)), int(match.group(1)))


def read_datetime(text: str, *, now: datetime, tz: str) -> datetime:
    """'31.12.2026 15:00', '2026-12-31T15:00', 'tomorrow 15:00' -> an aware UTC datetime."""
    cleaned = " ".join((text or "").split())
    match = re.fullmatch(r"(\S+)[ T](\d{1,2})[:.](\d{2})", cleaned)
    try:
        if match and re.match(r"\d", match.group(1)):
            day = _numeric_date(match.group(1), now.astimezone(zone(tz)).date())
            if day is not None:
                local = datetime(day.year, day.month, day.day, int(match.group(2)), int(match.group(3)),
                                 tzinfo=zone(tz))
                return local.astimezone(now.tzinfo)
        return parse_when(cleaned, now=now, tz=tz)
    except (ValueError, BadInput):
        raise BadInput(DATETIME, text=cleaned[:ECHO]) from None


def read_period(text: str, *, now: datetime, tz: str) -> tuple[date, date]:
    """'01.12.2026 - 14.12.2026', 'с 1.12 по 14.12' -> (start, end)."""
    parts = PERIOD_SPLIT.split(PERIOD_START.sub("", (text or "").strip()), maxsplit=1)
    if len(parts) != 2:
        raise BadInput(PERIOD)
    start, end = (read_date(part, now=now, tz=tz) for part in parts)
    if end < start:
        raise BadInput(PERIOD_ORDER, start=start.isoformat(), end=end.isoformat())
    return start, end
