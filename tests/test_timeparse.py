"""parse_when: English and Russian times, house rules (18:00, tomorrow), refusals."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from core.chat.timeparse import IN_THE_PAST, TOO_FAR, UNREADABLE, parse_when
from core.domain.errors import BadInput

MOSCOW = ZoneInfo("Europe/Moscow")
# Saturday 2026-11-28 10:00 in Moscow (07:00 UTC).
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=MOSCOW)


def moscow(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MOSCOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English
        ("tomorrow 15:00", moscow(11, 29, 15)),
        ("tomorrow at 15:00", moscow(11, 29, 15)),
        ("in 2 hours", moscow(11, 28, 12)),
        ("in 30 minutes", moscow(11, 28, 10, 30)),
        ("friday", moscow(12, 4, 18)),
        ("on friday", moscow(12, 4, 18)),
        ("next monday", moscow(11, 30, 18)),
        ("next monday 9:00", moscow(11, 30, 9)),
        ("monday 9:00", moscow(11, 30, 9)),
        ("15:00", moscow(11, 28, 15)),
        ("at 15:00", moscow(11, 28, 15)),
        ("9:00", moscow(11, 29, 9)),
        ("9am", moscow(11, 29, 9)),
        ("at 9", moscow(11, 29, 9)),
        ("tomorrow at 9", moscow(11, 29, 9)),
        ("noon", moscow(11, 28, 12)),
        ("midnight", moscow(11, 29, 0)),
        ("tomorrow", moscow(11, 29, 18)),
        ("today", moscow(11, 28, 18)),
        ("dec 5", moscow(12, 5, 18)),
        ("2026-12-01 10:00", moscow(12, 1, 10)),
        ("in 3 days", moscow(12, 1, 10)),
        ("  Tomorrow   15:00  ", moscow(11, 29, 15)),
        # Russian
        ("завтра в 15:00", moscow(11, 29, 15)),
        ("через 2 часа", moscow(11, 28, 12)),
        ("через час", moscow(11, 28, 11)),
        ("через 30 минут", moscow(11, 28, 10, 30)),
        ("через 2 дня", moscow(11, 30, 10)),
        ("в пятницу", moscow(12, 4, 18)),
        ("во вторник", moscow(12, 1, 18)),
        ("к пятнице", moscow(12, 4, 18)),
        ("в понедельник в 10:00", moscow(11, 30, 10)),
        ("5 декабря", moscow(12, 5, 18)),
        ("в 10 декабря", moscow(12, 10, 18)),
        ("послезавтра", moscow(11, 30, 18)),
        ("в 15:00", moscow(11, 28, 15)),
        ("к 15:00", moscow(11, 28, 15)),
        ("в 10", moscow(11, 29, 10)),
        ("завтра в 9", moscow(11, 29, 9)),
        ("завтра в 10 утра", moscow(11, 29, 10)),
        ("в 7 вечера", moscow(11, 28, 19)),
        ("в 2 часа дня", moscow(11, 28, 14)),
        ("в 11 ночи", moscow(11, 28, 23)),
        ("в полдень", moscow(11, 28, 12)),
        ("в полночь", moscow(11, 29, 0)),
    ],
)
def test_reads_phrase(text: str, expected: datetime) -> None:
    result = parse_when(text, now=NOW, tz="Europe/Moscow")
    assert result.tzinfo is not None
    assert result.utcoffset().total_seconds() == 0
    assert result == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15:00", moscow(11, 29, 15)),  # past today -> tomorrow
        ("at 15:00", moscow(11, 29, 15)),
        ("в 2 часа дня", moscow(11, 29, 14)),
        ("17:00", moscow(11, 28, 17)),  # still ahead today
        ("in 2 hours", moscow(11, 28, 18)),
    ],
)
def test_bare_clock_time_already_past_means_tomorrow(text: str, expected: datetime) -> None:
    late = datetime(2026, 11, 28, 16, 0, tzinfo=MOSCOW)
    assert parse_when(text, now=late, tz="Europe/Moscow") == expected


def test_reads_in_the_given_zone() -> None:
    result = parse_when("tomorrow 9:00", now=NOW, tz="America/New_York")
    # NOW is 02:00 Saturday in New York; Sunday 09:00 EST is 14:00 UTC.
    assert result == datetime(2026, 11, 29, 14, 0, tzinfo=timezone.utc)


def test_bare_time_in_a_zone_west_of_utc() -> None:
    morning = datetime(2026, 11, 28, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    result = parse_when("9:00", now=morning, tz="America/New_York")
    assert result == datetime(2026, 11, 28, 14, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected_utc_hour"),
    [("tomorrow 9:00", 13), ("9:00", 13), ("tomorrow", 22)],
)
def test_across_a_dst_change(text: str, expected_utc_hour: int) -> None:
    # New York springs forward on 2026-03-08: 09:00 that day is EDT (UTC-4).
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    result = parse_when(text, now=saturday, tz="America/New_York")
    assert result == datetime(2026, 3, 8, expected_utc_hour, 0, tzinfo=timezone.utc)


def test_unknown_zone_falls_back_to_utc() -> None:
    result = parse_when("tomorrow 15:00", now=NOW, tz="Mars/Olympus")
    assert result == datetime(2026, 11, 29, 15, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["yesterday", "вчера", "2020-01-01 10:00", "сегодня в 9:00"])
def test_past_is_refused(text: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse_when(text, now=NOW, tz="Europe/Moscow")
    assert refused.value.msgid == IN_THE_PAST
    assert refused.value.params == {"when": text}


def test_today_after_the_working_day_is_in_the_past() -> None:
    evening = datetime(2026, 11, 28, 19, 0, tzinfo=MOSCOW)
    with pytest.raises(BadInput) as refused:
        parse_when("today", now=evening, tz="Europe/Moscow")
    assert refused.value.msgid == IN_THE_PAST


@pytest.mark.parametrize("text", ["in 10 years", "dec 5 2040", "9999-12-31 23:59"])
def test_too_far_is_refused(text: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse_when(text, now=NOW, tz="Europe/Moscow")
    assert refused.value.msgid == TOO_FAR
    assert refused.value.params == {"when": text}


@pytest.mark.parametrize(
    ("text", "echoed"),
    [
        ("asdf", "asdf"),
        ("", ""),
        ("   ", ""),
        ("когда-нибудь потом", "когда-нибудь потом"),
        ("tomorrow " * 12, ("tomorrow " * 12)[:40]),
    ],
)
def test_unreadable_is_refused(text: str, echoed: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse_when(text, now=NOW, tz="Europe/Moscow")
    assert refused.value.msgid == UNREADABLE
    assert refused.value.params == {"when": echoed}


def test_messages_render_with_their_params() -> None:
    for msgid in (UNREADABLE, IN_THE_PAST, TOO_FAR):
        assert "x y" in msgid % {"when": "x y"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_any_text_is_a_future_time_or_a_refusal(text: str) -> None:
    try:
        result = parse_when(text, now=NOW, tz="Europe/Moscow")
    except BadInput as refused:
        assert refused.msgid in (UNREADABLE, IN_THE_PAST, TOO_FAR)
        return
    assert result.tzinfo is not None
    assert result > NOW


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["tomorrow", "at", "в", "к", "9", "15:00", "friday", "пятницу", "через", "2",
             "часа", "in", "hours", "dec", "5", "декабря", "вечера", "noon", "2026", "-", "."]
        ),
        max_size=6,
    ).map(" ".join)
)
def test_time_like_word_salad_is_a_future_time_or_a_refusal(text: str) -> None:
    try:
        result = parse_when(text, now=NOW, tz="Europe/Moscow")
    except BadInput:
        return
    assert result > NOW
