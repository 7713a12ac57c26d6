"""Invites: an admin makes a one-time code; a stranger who opens it joins the team."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.domain.clock import from_db, to_db
from core.domain.errors import BadInput, Forbidden
from core.domain.models import Invite, Person
from core.presentation.i18n import N_
from core.services.people import get_active

VALID_FOR = timedelta(days=7)
ADMINS_ONLY = N_("Only an admin can invite people.")
BAD_INVITE = N_("This invite link is unknown, used or expired. Ask your admin for a new one.")


def create_invite(session: Session, actor_id: int, *, now: datetime) -> Invite:
    """A fresh one-time code, valid for a week (admins only)."""
    actor = get_active(session, actor_id)
    if not actor.is_admin:
        raise Forbidden(ADMINS_ONLY)
    invite = Invite(code=secrets.token_urlsafe(12), created_by=actor.id, created_at=to_db(now),
                    expires_at=to_db(now + VALID_FOR))
    session.add(invite)
    session.flush()
    return invite


def accept_invite(session: Session, code: str, *, name: str, now: datetime, handle_hint: str | None = None,
                  **identity) -> Person:
    """Use a code: the newcomer becomes a member with the given platform identity."""
    invite = session.exec(select(Invite).where(Invite.code == (code or "")[:64])).first()
    if invite is None or invite.used_by is not None or from_db(invite.expires_at) <= now:
        raise BadInput(BAD_INVITE)
    person = Person(handle=_free_handle(session, handle_hint or name), name=(name or "?")[:200],
                    invited_by=invite.created_by, created_at=to_db(now), **identity)
    session.add(person)
    session.flush()
    invite.used_by, invite.used_at = person.id, to_db(now)
    session.add(invite)
    return person


def _free_handle(session: Session, hint: str) -> str:
    base = re.sub(r"[^a-z0-9_.-]", "", (hint or "").lower())[:40].strip(".-_") or "member"
    handle, n = base, 1
    while session.exec(select(Person.id).where(Person.handle == handle)).first() is not None:
        n += 1
        handle = f"{base}{n}"
    return handle
