"""Time: an injectable clock, aware-UTC storage helpers, time zones."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(timezone.utc)


def to_db(moment: datetime) -> datetime:
    """An aware datetime in UTC, as the store keeps it."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Teamflow keeps every moment time-zone aware")
    return moment.astimezone(timezone.utc)


def from_db(moment: datetime | None) -> datetime | None:
    """A moment from the store as aware UTC (SQLite drops the offset)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """A ZoneInfo for a name, falling back when the name is empty or unknown."""
    for candidate in (name, fallback, "UTC"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def is_valid_zone(name: str) -> bool:
    """True when `name` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
