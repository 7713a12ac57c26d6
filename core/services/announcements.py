"""Announcements: a post to every announcement channel, with "I'm in" / "Can't make it".

Posting, answering and closing each write outbox rows in their transaction:
a post per channel, then a redraw per copy whenever the answers change, so
the counts and names update live on every copy, on every platform.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from core.domain.clock import from_db, to_db
from core.domain.errors import BadInput, Forbidden, NotFound
from core.domain.models import Announcement, AnnouncementPost, Person, Rsvp
from core.infra.outbox import enqueue
from core.presentation.i18n import N_
from core.services.people import get_active

TEXT_MAX = 3000
ANSWERS = ("in", "out")
EMPTY = N_("What should I announce? For example: /announce Pizza in the kitchen at 13:00, who's in?")
TOO_LONG = N_("That announcement is %(length)s characters long; keep it under %(max)s.")
NO_CHANNELS = N_("There is no announcement channel yet: an admin adds one under channels: announcements: in the org file.")
NOT_FOUND = N_("Announcement #%(id)s doesn't exist.")
CLOSED = N_("Announcement #%(id)s is closed; the answers are final.")
NOT_AUTHOR = N_("Only the author or an admin can close announcement #%(id)s.")
BAD_ANSWER = N_("Answer with in or out, like: /rsvp 3 in")


def create(session: Session, actor_id: int, text: str, *, channels: list[tuple[str, str]], now: datetime,
           post_at: datetime | None = None) -> Announcement:
    """Post now to every channel, or schedule for `post_at`."""
    actor = get_active(session, actor_id)
    text = (text or "").strip()
    if not text:
        raise BadInput(EMPTY)
    if len(text) > TEXT_MAX:
        raise BadInput(TOO_LONG, length=len(text), max=TEXT_MAX)
    if not channels:
        raise BadInput(NO_CHANNELS)
    announcement = Announcement(author_id=actor.id, text=text, post_at=to_db(post_at or now), created_at=to_db(now))
    session.add(announcement)
    session.flush()
    if post_at is None or post_at <= now:
        publish(session, announcement, channels, now)
    return announcement


def publish(session: Session, announcement: Announcement, channels: list[tuple[str, str]], now: datetime) -> None:
    """One outbox row per channel; the copies are recorded as they land."""
    announcement.status = "posted"
    session.add(announcement)
    for platform, chat_id in channels:
        enqueue(session, key=f"announce:{announcement.id}:{platform}:{chat_id}", platform=platform,
                chat_id=str(chat_id), template="announcement", now=now,
                context={"announcement_id": announcement.id})


def answer(session: Session, actor_id: int, announcement_id: int, reply: str, *, now: datetime) -> Announcement:
    """I'm in / Can't make it; answering again changes the answer."""
    actor = get_active(session, actor_id)
    if reply not in ANSWERS:
        raise BadInput(BAD_ANSWER)
    announcement = _open(session, announcement_id)
    row = session.get(Rsvp, (announcement.id, actor.id))
    if row is not None and row.answer == reply:
        return announcement  # the same tap twice: nothing changed, nothing to redraw
    row = row or Rsvp(announcement_id=announcement.id, person_id=actor.id, answer=reply, at=to_db(now))
    row.answer, row.at = reply, to_db(now)
    session.add(row)
    redraw(session, announcement, now)
    return announcement


def close(session: Session, actor_id: int, announcement_id: int, *, now: datetime) -> Announcement:
    """The author (or an admin) closes it: the buttons go, the final counts stay."""
    actor = get_active(session, actor_id)
    announcement = _open(session, announcement_id)
    if actor.id != announcement.author_id and not actor.is_admin:
        raise Forbidden(NOT_AUTHOR, id=announcement.id)
    announcement.status, announcement.closed_at = "closed", to_db(now)
    redraw(session, announcement, now)
    return announcement


def redraw(session: Session, announcement: Announcement, now: datetime) -> None:
    """Queue a redraw of every copy (its own key per version, so none is skipped)."""
    announcement.version += 1
    session.add(announcement)
    for post in session.exec(select(AnnouncementPost).where(AnnouncementPost.announcement_id == announcement.id)):
        enqueue(session, key=f"announce-redraw:{post.id}:{announcement.version}", platform=post.platform,
                chat_id=post.chat_id, template="announcement_update", now=now,
                context={"announcement_id": announcement.id, "post_id": post.id})


def remember_post(session: Session, announcement_id: int, platform: str, chat_id: str, message_id: str) -> None:
    """A copy landed in a channel; later redraws edit it."""
    exists = session.exec(select(AnnouncementPost.id).where(
        AnnouncementPost.platform == platform, AnnouncementPost.chat_id == chat_id,
        AnnouncementPost.message_id == message_id)).first()
    if exists is None:
        session.add(AnnouncementPost(announcement_id=announcement_id, platform=platform, chat_id=chat_id,
                                     message_id=message_id))


def due(session: Session, now: datetime, limit: int = 100) -> list[Announcement]:
    """Scheduled announcements whose time has come (locked for this worker)."""
    stmt = (select(Announcement).where(Announcement.status == "scheduled", Announcement.post_at <= to_db(now))
            .order_by(Announcement.post_at).limit(limit).with_for_update(skip_locked=True))
    return list(session.exec(stmt))


def tick(store, channels: list[tuple[str, str]], now: datetime) -> int:
    """Post the scheduled announcements that are due."""
    with store.session() as session:
        found = due(session, now)
        for announcement in found:
            publish(session, announcement, channels, now)
        return len(found)


def view(session: Session, announcement: Announcement) -> dict:
    """What a copy shows: the text, who is in, who is not, whether it is closed."""
    rows = session.exec(select(Rsvp, Person).join(Person, Person.id == Rsvp.person_id)
                        .where(Rsvp.announcement_id == announcement.id).order_by(Rsvp.at, Rsvp.person_id)).all()
    names = {a: [person.name for rsvp, person in rows if rsvp.answer == a] for a in ANSWERS}
    author = session.get(Person, announcement.author_id) if announcement.author_id else None
    return {"id": announcement.id, "text": announcement.text, "author": author.name if author else "",
            "kind": announcement.kind,
            "going": names["in"], "not_going": names["out"], "closed": announcement.status == "closed",
            "post_at": from_db(announcement.post_at)}


def _open(session: Session, announcement_id: int) -> Announcement:
    announcement = session.get(Announcement, announcement_id) if 0 < announcement_id < 2**62 else None
    if announcement is None or announcement.status == "scheduled":
        raise NotFound(NOT_FOUND, id=announcement_id)
    if announcement.status == "closed":
        raise BadInput(CLOSED, id=announcement.id)
    return announcement
