"""Birthdays from the org file become an announcement on the day (9:00, the org's zone)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import extract
from sqlmodel import select

from core.domain.clock import to_db, zone
from core.domain.models import Announcement, Person
from core.services import announcements

HOUR = 9


def tick(store, channels: list[tuple[str, str]], tz: str, now: datetime) -> int:
    """Post today's birthdays once each (the dedupe key makes a second post impossible)."""
    local = now.astimezone(zone(tz))
    if local.hour < HOUR or not channels:
        return 0
    posted = 0
    with store.session() as session:
        # Only today's birthdays come back: this runs every tick, for any number of people.
        people = session.exec(select(Person).where(
            Person.active == True, extract("month", Person.birthday) == local.month,  # noqa: E712
            extract("day", Person.birthday) == local.day)).all()
        for person in people:
            key = f"birthday:{person.id}:{local.year}"
            if session.exec(select(Announcement.id).where(Announcement.dedupe_key == key)).first():
                continue
            post = Announcement(author_id=None, kind="birthday", dedupe_key=key, text=person.name,
                                post_at=to_db(now), created_at=to_db(now))
            session.add(post)
            session.flush()
            announcements.publish(session, post, channels, now)
            posted += 1
    return posted
