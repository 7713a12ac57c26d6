"""The times people type most, read without dateparser.

`read_common(text, local_now)` reads the common, unambiguous forms ("завтра в
15:00", "tomorrow 3pm", "in 2 hours", "через 2 часа", "пятница", "fri 9:00",
"dec 5", "5 декабря", "15.30") as dateparser reads them, in a few
microseconds instead of milliseconds; anything else is None and
core/chat/timeparse.py asks dateparser. It sees the text after timeparse's
normalizing (lower or upper case, single spaces, "в 7 вечера" already
"19:00") and answers the naive wall time in the reader's zone, the way
dateparser does before the house rules (18:00 for a bare date, tomorrow for a
clock time already past) are applied to either answer.

What dateparser reads in a way a person might not mean ("5.12": 05:12 or the
5th of December?) is left to dateparser, so both give the one answer there is.
tests/test_quicktime.py checks every form here against dateparser's answer.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

_WEEKDAYS = {
    **dict.fromkeys(("monday", "mon", "понедельник"), 0),
    **dict.fromkeys(("tuesday", "tue", "вторник"), 1),
    **dict.fromkeys(("wednesday", "wed", "среда", "среду"), 2),
    **dict.fromkeys(("thursday", "thu", "четверг"), 3),
    **dict.fromkeys(("friday", "fri", "пятница", "пятницу"), 4),
    **dict.fromkeys(("saturday", "sat", "суббота", "субботу"), 5),
    **dict.fromkeys(("sunday", "sun", "воскресенье"), 6),
}
_DAYS = {"today": 0, "сегодня": 0, "tomorrow": 1, "завтра": 1, "послезавтра": 2}
_MONTH_NAMES = (
    ("january", "jan", "января"), ("february", "feb", "февраля"), ("march", "mar", "марта"),
    ("april", "apr", "апреля"), ("may", "мая"), ("june", "jun", "июня"), ("july", "jul", "июля"),
    ("august", "aug", "августа"), ("september", "sep", "сентября"), ("october", "oct", "октября"),
    ("november", "nov", "ноября"), ("december", "dec", "декабря"),
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_UNITS_EN = {
    **dict.fromkeys(("minute", "minutes"), "minutes"), **dict.fromkeys(("hour", "hours"), "hours"),
    **dict.fromkeys(("day", "days"), "days"), **dict.fromkeys(("week", "weeks"), "weeks"),
    **dict.fromkeys(("month", "months"), "months"),
}
_UNITS_RU = {
    **dict.fromkeys(("минуту", "минуты", "минут"), "minutes"), **dict.fromkeys(("час", "часа", "часов"), "hours"),
    **dict.fromkeys(("день", "дня", "дней"), "days"), **dict.fromkeys(("неделю", "недели", "недель"), "weeks"),
    **dict.fromkeys(("месяц", "месяца", "месяцев"), "months"),
}
_UNITS = {**_UNITS_EN, **_UNITS_RU}
# The units said without a number ("in an hour", "через час").
_ONE = {"minute", "hour", "day", "week", "month", "минуту", "час", "день", "неделю", "месяц"}


_LATIN, _CYRILLIC = re.compile(r"[a-z]", re.IGNORECASE), re.compile(r"[а-яё]", re.IGNORECASE)


def _words(names) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_CLOCK = r"(?P<hour>\d{1,2})(?:(?P<sep>[:.])(?P<minute>\d{2}))?(?:\s?(?P<half>am|pm))?"
_DAY = (rf"(?:(?P<day>{_words(_DAYS)})"
        rf"|(?:(?:on|в|во)\s)?(?P<weekday>{_words(_WEEKDAYS)})"
        rf"|(?P<date>\d{{1,2}})\s(?P<month>{_words(_MONTHS)})"
        rf"|(?P<month2>{_words(_MONTHS)})\s(?P<date2>\d{{1,2}}))")
# A day, a clock time, or both: "tomorrow", "friday 15:00", "5 декабря в 9:30", "at 3pm".
_ABSOLUTE = re.compile(rf"(?:{_DAY})?(?:(?:^|\s)(?:(?:at|в|во)\s)?{_CLOCK})?", re.IGNORECASE)
# "in 2 hours", "in an hour", "через 2 часа", "через час" (Russian says one without a number).
_RELATIVE = re.compile(rf"in\s(?:(?P<n>\d{{1,3}})|an?)\s(?P<unit>{_words(_UNITS_EN)})"
                       rf"|через(?:\s(?P<n_ru>\d{{1,3}}))?\s(?P<unit_ru>{_words(_UNITS_RU)})", re.IGNORECASE)


def read_common(text: str, local_now: datetime) -> datetime | None:
    """`text` as dateparser reads it, as a naive wall time in the reader's zone (`local_now` is
    naive too), when it is one of the common forms; None for anything else."""
    if _LATIN.search(text) and _CYRILLIC.search(text):
        return None  # "friday в 15:00": dateparser reads one language at a time, and not this
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return _relative(relative, local_now)
    absolute = _ABSOLUTE.fullmatch(text)
    if absolute is None or not absolute.group(0):
        return None
    return _absolute(absolute, local_now)


def _relative(match: re.Match[str], local_now: datetime) -> datetime | None:
    number = match.group("n") or match.group("n_ru")
    count = int(number) if number else 1
    if number is None and (match.group("unit") or match.group("unit_ru")).lower() not in _ONE:
        return None  # "через минут": no number, yet not the word for one
    if count == 0:
        return None  # "in 0 hours" is now: dateparser's to answer (in the past)
    unit = _UNITS[(match.group("unit") or match.group("unit_ru")).lower()]
    if unit == "months":
        return local_now + relativedelta(months=count)
    return local_now + timedelta(**{unit: count})


class _NotCommon(Exception):
    """The text has the shape of a common form, but is one dateparser should read."""


def _clock(match: re.Match[str], has_day: bool) -> tuple[int, int] | None:
    """(hour, minute) of the clock part, None without one; `_NotCommon` when it is not plainly a time."""
    if match.group("hour") is None:
        return None
    hour, minute, half = int(match.group("hour")), int(match.group("minute") or 0), (match.group("half") or "").lower()
    if match.group("sep") is None and not half:
        raise _NotCommon  # "friday 15" or a lone number: dateparser reads these its own ways
    if half:
        if not 1 <= hour <= 12:
            raise _NotCommon
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise _NotCommon
    if match.group("sep") == "." and (hour <= 12 and minute <= 12 or has_day):
        # "5.12": a time to dateparser, the 5th of December to many people; "tomorrow 15.30":
        # dateparser drops the time (and keeps now's): both are dateparser's to answer
        raise _NotCommon
    return hour, minute


def _absolute(match: re.Match[str], local_now: datetime) -> datetime | None:
    month = match.group("month") or match.group("month2")
    try:
        clock = _clock(match, bool(match.group("day") or match.group("weekday") or month))
    except _NotCommon:
        return None
    today = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if match.group("day"):
        ahead = timedelta(days=_DAYS[match.group("day").lower()])
        if clock is None:
            return local_now + ahead  # "tomorrow" alone: dateparser keeps now's time of day
        day = today + ahead
    elif match.group("weekday"):
        # never today: "friday" said on a Friday is next week's, as dateparser reads it
        day = today + timedelta(days=(_WEEKDAYS[match.group("weekday").lower()] - today.weekday()) % 7 or 7)
    elif month:
        day = _next_date(int(match.group("date") or match.group("date2")), _MONTHS[month.lower()], clock, local_now)
        if day is None:
            return None
    else:
        day = today  # a bare clock time: the house rules choose its day
    hour, minute = clock or (0, 0)
    return day.replace(hour=hour, minute=minute)


def _next_date(date: int, month: int, clock: tuple[int, int] | None, local_now: datetime) -> datetime | None:
    """This year's `date`.`month` (at the clock time, else midnight) if still ahead, else next year's."""
    hour, minute = clock or (0, 0)
    for year in (local_now.year, local_now.year + 1):
        try:
            candidate = datetime(year, month, date, hour, minute)
        except ValueError:
            return None  # the 31st of April, the 29th of February: dateparser's to refuse or to read
        if candidate > local_now:
            return candidate
        if candidate == local_now:
            return None
    return None
