"""Finding the member behind a platform account.

Telegram: by user id, then by the username the org file gives (the id is
stored on first contact, so a later username change does not lock them out).
Slack: by member id, then by e-mail.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from core import outbox
from core.i18n import normalize
from core.models import Person


def telegram_member(session: Session, user_id: int, username: str | None, language_code: str | None,
                    now: datetime) -> Person | None:
    """The active member with this Telegram account, learning the id on first contact."""
    person = session.exec(select(Person).where(Person.telegram_id == user_id)).first()
    if person is None and username:
        person = session.exec(select(Person).where(
            func.lower(Person.telegram_username) == username.lower().lstrip("@"),
            Person.telegram_id.is_(None),
        )).first()
        if person is not None:
            person.telegram_id = user_id
            outbox.wake(session, person.id, now)
    if person is None or not person.active:
        return None
    _learn_language(session, person, language_code)
    return person


def slack_member(session: Session, user_id: str, email: str | None, locale: str | None,
                 now: datetime) -> Person | None:
    """The active member with this Slack account, learning the id on first contact."""
    person = session.exec(select(Person).where(Person.slack_id == user_id)).first()
    if person is None and email:
        person = session.exec(select(Person).where(
            func.lower(Person.email) == email.lower(), Person.slack_id.is_(None),
        )).first()
        if person is not None:
            person.slack_id = user_id
            outbox.wake(session, person.id, now)
    if person is None or not person.active:
        return None
    _learn_language(session, person, locale)
    return person


def _learn_language(session: Session, person: Person, code: str | None) -> None:
    hint = normalize(code, "") or None
    if hint and person.platform_language != hint:
        person.platform_language = hint
    session.add(person)
