"""The fast time reader (core/chat/quicktime.py) answers what dateparser answers.

Each phrase is read both ways through the whole of `parse_when` (normalizing,
the house rules, the refusals): by the fast reader alone and by dateparser alone,
at moments chosen for their edges (a Friday, the 5th of December, New Year's
Eve, a DST change, a half-hour zone, the day before a leap day). The fast reader
must take the phrases of the table (else the comparison proves nothing; a date
that is no date that year, or is this very minute, it leaves to dateparser) and
leave the ambiguous ones to dateparser.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.chat import timeparse
from core.chat.quicktime import read_common
from core.domain.errors import BadInput

MOSCOW = ZoneInfo("Europe/Moscow")
MOMENTS = [
    (datetime(2026, 11, 28, 10, 0, 12, 345678, tzinfo=MOSCOW), "Europe/Moscow"),  # a Saturday morning
    (datetime(2026, 12, 4, 16, 0, tzinfo=MOSCOW), "Europe/Moscow"),  # a Friday afternoon
    (datetime(2026, 12, 5, 15, 0, tzinfo=MOSCOW), "Europe/Moscow"),  # the 5th of December itself
    (datetime(2026, 12, 31, 23, 30, tzinfo=MOSCOW), "Europe/Moscow"),  # New Year's Eve, late
    (datetime(2026, 3, 7, 23, 30, tzinfo=ZoneInfo("America/New_York")), "America/New_York"),  # DST tonight
    (datetime(2026, 1, 31, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata")), "Asia/Kolkata"),  # half an hour off UTC
    (datetime(2028, 2, 28, 12, 0, tzinfo=MOSCOW), "Europe/Moscow"),  # a leap day tomorrow
]

COMMON = [
    # a day, with or without a time of day
    "завтра в 15:00", "завтра 9:30", "завтра", "сегодня в 18:00", "сегодня", "послезавтра в 10:00",
    "tomorrow 3pm", "tomorrow at 15:00", "tomorrow 11 am", "tomorrow 12am", "Tomorrow", "today 19:00", "today",
    "ЗАВТРА в 9:05", "tomorrow at 9", "завтра в 10 утра", "завтра в 7 вечера",
    # a weekday (never today: "friday" on a Friday is next week's)
    "friday", "fri", "on friday", "friday 15:00", "fri 9am", "monday 9:00", "sun at 3pm", "wednesday",
    "пятница", "пятницу", "в пятницу", "в пятницу в 15:00", "во вторник", "в среду 9:30", "воскресенье",
    "понедельник в 10:00", "к пятнице",
    # a day of a month (next year's once this year's has passed)
    "dec 5", "december 5", "5 dec", "dec 5 15:00", "jan 1", "may 1 9:00", "28 nov at 9:00",
    "5 декабря", "5 декабря 15:00", "1 января в 9:00", "8 марта", "30 ноября в 12:00",
    # a clock time alone (tomorrow once past)
    "15:00", "9:30", "at 15:00", "в 15:00", "к 15:00", "3pm", "at 3pm", "12pm", "12am", "0:00", "23:59",
    "15.30", "7.45", "в 7 вечера", "noon", "в полночь",
    # in so long
    "in 2 hours", "in an hour", "in 1 hour", "in 30 minutes", "in a day", "in 3 days", "in 2 weeks", "in 1 month",
    "in 21 months", "in 999 days", "через 2 часа", "через час", "через 5 минут", "через минуту", "через 3 дня",
    "через день", "через 2 недели", "через неделю", "через месяц", "через 14 месяцев", "через 90 минут",
]

FOR_DATEPARSER = [
    "5.12",  # 05:12 to dateparser, the 5th of December to many
    "tomorrow 15.30",  # dateparser drops the time of day
    "friday в 15:00", "через 2 hours",  # languages mixed
    "in 0 hours", "через минут", "in hours",  # no amount, or none at all
    "31 april", "feb 30 9:00", "24:00", "13pm", "friday 15",
    "next friday", "this friday", "в 10 декабря", "2026-12-01 10:00", "in 2 hours 30 minutes", "5 декабря 2027",
]


def outcome(text: str, now: datetime, tz: str, readers) -> object:
    """`parse_when`'s answer, or the refusal's message id."""
    try:
        return timeparse._parse_when(text, now, tz, readers)
    except BadInput as refused:
        return refused.msgid


@pytest.mark.parametrize("text", COMMON)
def test_the_fast_reader_answers_what_dateparser_answers(text: str) -> None:
    normalized = timeparse._normalize(" ".join(text.split()))
    answered = 0
    for now, tz in MOMENTS:
        if read_common(normalized, now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)) is None:
            continue  # "feb 29" in a year without one, "dec 5 15:00" at that very minute: dateparser's
        answered += 1
        fast = outcome(text, now, tz, (timeparse._read_common,))
        assert fast == outcome(text, now, tz, (timeparse._read,)), (text, now)
    assert answered >= len(MOMENTS) - 2, f"the fast reader took {text!r} only {answered} times"


@pytest.mark.parametrize("text", ["feb 29", "29 февраля в 9:00"])
def test_a_leap_day_is_read_in_its_year_and_left_to_dateparser_in_others(text: str) -> None:
    for now, tz in MOMENTS:
        taken = read_common(timeparse._normalize(text), now.astimezone(ZoneInfo(tz)).replace(tzinfo=None))
        assert (taken is not None) == (now.year == 2028)
        assert outcome(text, now, tz, (timeparse._read_common, timeparse._read)) == outcome(
            text, now, tz, (timeparse._read,))


@pytest.mark.parametrize("text", FOR_DATEPARSER)
def test_what_could_be_read_two_ways_is_left_to_dateparser(text: str) -> None:
    now = MOMENTS[0][0].replace(tzinfo=None)
    assert read_common(timeparse._normalize(text), now) is None


def test_parse_when_takes_the_fast_reading_first(monkeypatch) -> None:
    def no_dateparser(*_args, **_kwargs):
        raise AssertionError("dateparser was asked")

    monkeypatch.setattr(timeparse.dateparser, "parse", no_dateparser)
    now = MOMENTS[0][0]
    assert timeparse.parse_when("завтра в 15:00", now=now, tz="Europe/Moscow") == datetime(
        2026, 11, 29, 15, 0, tzinfo=MOSCOW)
