"""Read a natural-language time ("tomorrow 15:00", "через 2 часа") as an aware UTC datetime.

`parse_when` is the one entry point. The common forms are read by
core/chat/quicktime.py (microseconds), the rest by dateparser (milliseconds);
both give the same answer, and the house rules apply on top of either:

* a date without a time of day ("friday", "5 декабря") means 18:00 that day;
* a bare clock time already past today ("15:00" at 16:00) means tomorrow;
* the result must be strictly in the future and at most five years ahead.

Anything else is refused with `BadInput`, whose msgid is one of the constants
below (a Russian catalog translates them by exact string).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import dateparser

from core.chat.quicktime import read_common
from core.domain.clock import zone
from core.domain.errors import BadInput
from core.presentation.i18n import N_

UNREADABLE = N_(
    "I can't read \"%(when)s\" as a time. Try \"tomorrow 15:00\", \"in 2 hours\", "
    "\"friday\", \"завтра в 15:00\" or \"через 2 часа\"."
)
IN_THE_PAST = N_("%(when)s is in the past. Try a future time, like \"tomorrow 15:00\" or \"in 2 hours\".")
TOO_FAR = N_("%(when)s is too far ahead.")

MAX_LENGTH = 100
ECHO_LENGTH = 40
DEFAULT_HOUR = 18
HORIZON = timedelta(days=5 * 365 + 2)

_MONTHS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек"

# "в 10", "at 9", "в 7 вечера", "7 вечера", "в 2 часа дня": an hour without minutes,
# which dateparser misreads as a day of the month (or ignores). Not "в 10 декабря".
_HOUR = re.compile(
    r"\b(?:(?:at|в|во|к)\s+(\d{1,2})(?:\s*(?:час(?:а|ов)?|o'clock))?(?:\s+(утра|дня|вечера|ночи))?"
    r"|(\d{1,2})\s+(утра|вечера|ночи))"
    rf"(?![\w:.]|\s*(?:[ap]\.?m\b|{_MONTHS}))",
    re.IGNORECASE,
)
# Words dateparser misreads or does not know: noon at 10:00 is read as tomorrow's,
# "в полдень" is unreadable, and "к пятнице" (dative, "by Friday") is unknown.
_WORDS = {
    "noon": "12:00", "midnight": "0:00", "полдень": "12:00", "полночь": "0:00",
    "понедельнику": "понедельник", "вторнику": "вторник", "среде": "среду",
    "четвергу": "четверг", "пятнице": "пятницу", "субботе": "субботу",
    "воскресенью": "воскресенье",
}
_WORD = re.compile(r"\b(?:" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
_LEADING_BY = re.compile(r"^к\s+", re.IGNORECASE)
_CLOCK = re.compile(
    r"(?<![\d.])\d{1,2}[:.]\d{2}(?![\d.])|\d\s*[ap]\.?m\b"
    r"|\b(?:tonight|утра|дня|вечера|ночи)\b",
    re.IGNORECASE,
)
_RELATIVE = re.compile(
    r"\b(?:in|через)\b.*\b(?:sec|min|hour|day|week|month|year"
    r"|сек|мин|час|дн|день|недел|месяц|год|лет)",
    re.IGNORECASE,
)
_BARE_CLOCK = re.compile(
    r"(?:(?:at|в|во|к)\s+)?\d{1,2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?",
    re.IGNORECASE,
)


def parse_when(text: str, *, now: datetime, tz: str) -> datetime:
    """Read a natural-language time in English or Russian in time zone `tz`, relative to `now` (aware datetime). Returns an AWARE datetime in UTC, strictly after now."""
    return _parse_when(text, now, tz, (_read_common, _read))


def _parse_when(text: str, now: datetime, tz: str, readers) -> datetime:
    """`parse_when` with the readers to ask in turn (the first answer counts)."""
    cleaned = " ".join((text or "").split())
    if not cleaned or len(cleaned) > MAX_LENGTH:
        raise BadInput(UNREADABLE, when=cleaned[:ECHO_LENGTH])
    local_zone = zone(tz)
    normalized = _normalize(cleaned)
    local_now = now.astimezone(local_zone)
    moment = next((m for m in (read(normalized, local_now) for read in readers) if m is not None), None)
    if moment is None:
        raise BadInput(UNREADABLE, when=cleaned[:ECHO_LENGTH])
    if moment - now > HORIZON:
        raise BadInput(TOO_FAR, when=cleaned)
    moment = _apply_house_rules(normalized, moment, now)
    if moment <= now:
        raise BadInput(IN_THE_PAST, when=cleaned)
    return moment.astimezone(timezone.utc)


def _normalize(text: str) -> str:
    """Rewrite what dateparser misreads: a leading "к" ("by"), noon and dative weekdays,
    and hours without minutes ("в 7 вечера", "at 9" -> "19:00", "9:00")."""
    text = _WORD.sub(lambda match: _WORDS[match.group(0).lower()], text)
    text = _HOUR.sub(_hour_as_clock, text)
    return _LEADING_BY.sub("", text)


def _hour_as_clock(match: re.Match[str]) -> str:
    """The "HH:00" for one `_HOUR` match, or the match itself when the hour is not one."""
    hour = int(match.group(1) or match.group(3))
    part = (match.group(2) or match.group(4) or "").lower()
    if part in ("дня", "вечера") and hour < 12:
        hour += 12
    elif part == "ночи" and hour == 12:
        hour = 0
    elif part == "ночи" and 6 <= hour < 12:
        hour += 12
    return f"{hour}:00" if hour < 24 else match.group(0)


def _read_common(text: str, local_now: datetime) -> datetime | None:
    """The fast reader's answer (core/chat/quicktime.py), aware in `local_now`'s zone, or None."""
    moment = read_common(text, local_now.replace(tzinfo=None))
    return None if moment is None else moment.replace(tzinfo=local_now.tzinfo)


def _read(text: str, local_now: datetime) -> datetime | None:
    """dateparser's reading of `text`, aware in `local_now`'s zone, or None if it has none."""
    local_zone = local_now.tzinfo
    settings = {
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": local_zone.key,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
    }
    try:
        moment = dateparser.parse(text, languages=["en", "ru"], settings=settings)
        if moment is None:
            return None
        if moment.tzinfo is None or getattr(moment.tzinfo, "zone", None) == local_zone.key:
            # Our zone: the wall time is right, but dateparser may keep the UTC offset
            # of RELATIVE_BASE across a DST change ("tomorrow 9:00"), so re-attach it.
            moment = moment.replace(tzinfo=local_zone)
        return moment.astimezone(local_zone)
    except Exception:  # dateparser and datetime overflow: any failure means unreadable
        return None


def _apply_house_rules(text: str, local: datetime, now: datetime) -> datetime:
    """18:00 for a date without a time; tomorrow for a bare clock time already past."""
    if _RELATIVE.search(text):
        return local
    if not _CLOCK.search(text):
        return local.replace(hour=DEFAULT_HOUR, minute=0, second=0, microsecond=0)
    if _BARE_CLOCK.fullmatch(text):
        return _next_occurrence(local, now)
    return local


def _next_occurrence(local: datetime, now: datetime) -> datetime:
    """The first moment strictly after `now` at `local`'s time of day, in `local`'s zone.

    dateparser picks the day of a bare clock time by comparing it with RELATIVE_BASE
    as if that were UTC (scrapinghub/dateparser#1092), so "12:00" at 10:00 in Moscow
    comes back as tomorrow; the day is chosen here instead.
    """
    today = now.astimezone(local.tzinfo).date()
    candidate = datetime.combine(today, local.time(), tzinfo=local.tzinfo)
    return candidate if candidate > now else candidate + timedelta(days=1)
