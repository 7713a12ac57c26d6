"""Birthdays from the org file become an announcement on the day (9:00, the org's zone)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from core import announcements
from core.clock import to_db, zone
from core.models import Announcement, Person

HOUR = 9


def tick(store, channels: list[tuple[str, str]], tz: str, now: datetime) -> int:
    """Post today's birthdays once each (the dedupe key makes a second post impossible)."""
    local = now.astimezone(zone(tz))
    if local.hour < HOUR or not channels:
        return 0
    posted = 0
    with store.session() as session:
        people = session.exec(select(Person).where(Person.active == True, Person.birthday != None)).all()  # noqa: E711,E712
        for person in people:
            if (person.birthday.month, person.birthday.day) != (local.month, local.day):
                continue
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
