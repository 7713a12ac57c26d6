"""Finding the member behind a platform account.

Telegram: by user id, then by the username the org file gives (the id is
stored on first contact, so a later username change does not lock them out).
Slack: by member id, then by e-mail.

`telegram_member_id` / `slack_member_id` run on every update: they read first
(no write lock on SQLite) and open a write transaction only when something
must be stored (the id learned on first contact, a new language hint).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from core.domain.models import Person
from core.infra import outbox
from core.presentation.i18n import normalize


def telegram_member(session: Session, user_id: int, username: str | None, language_code: str | None,
                    now: datetime) -> Person | None:
    """The active member with this Telegram account, learning the id on first contact."""
    by_name = func.lower(Person.telegram_username) == username.lower().lstrip("@") if username else None
    return _member(session, Person.telegram_id, user_id, by_name, language_code, now)


def slack_member(session: Session, user_id: str, email: str | None, locale: str | None,
                 now: datetime) -> Person | None:
    """The active member with this Slack account, learning the id on first contact."""
    by_email = func.lower(Person.email) == email.lower() if email else None
    return _member(session, Person.slack_id, user_id, by_email, locale, now)


def telegram_member_id(store, user_id: int, username: str | None, language_code: str | None,
                       now: datetime) -> int | None:
    """`telegram_member`'s person id, reading first and writing only when something changed."""
    by_name = func.lower(Person.telegram_username) == username.lower().lstrip("@") if username else None
    return _member_id(store, Person.telegram_id, user_id, by_name, language_code, now)


def slack_member_id(store, user_id: str, email: str | None, locale: str | None, now: datetime) -> int | None:
    """`slack_member`'s person id, reading first and writing only when something changed."""
    by_email = func.lower(Person.email) == email.lower() if email else None
    return _member_id(store, Person.slack_id, user_id, by_email, locale, now)


def _member_id(store, id_column, account_id, fallback, language: str | None, now: datetime) -> int | None:
    """The member's id from a read; the write transaction only for a first contact or a new language."""
    hint = normalize(language, "") or None
    with store.read() as session:
        known = session.exec(select(Person.id, Person.active, Person.platform_language)
                             .where(id_column == account_id)).first()
        learnable = known is None and fallback is not None and \
            session.exec(select(Person.id).where(fallback, id_column.is_(None))).first() is not None
    if known is not None and (not known.active or hint is None or known.platform_language == hint):
        return known.id if known.active else None
    if known is None and not learnable:
        return None  # a stranger: nothing to store
    with store.session() as session:
        person = _member(session, id_column, account_id, fallback, language, now)
        return person.id if person else None


def _member(session: Session, id_column, account_id, fallback, language: str | None, now: datetime) -> Person | None:
    """By the platform id; else by the org file's username or e-mail among people whose id
    is not known yet, storing the id (and waking the notices that waited for it)."""
    person = session.exec(select(Person).where(id_column == account_id)).first()
    if person is None and fallback is not None:
        person = session.exec(select(Person).where(fallback, id_column.is_(None))).first()
        if person is not None:
            setattr(person, id_column.key, account_id)
            outbox.wake(session, person.id, now)
    if person is None or not person.active:
        return None
    _learn_language(session, person, language)
    return person


def _learn_language(session: Session, person: Person, code: str | None) -> None:
    hint = normalize(code, "") or None
    if hint and person.platform_language != hint:
        person.platform_language = hint
    session.add(person)
