"""People: who is who, how they are found from a platform identity, their manager chain."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from core.domain.errors import BadInput, UnknownPerson
from core.domain.models import Person
from core.presentation.i18n import N_, normalize

MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")

NOT_A_MEMBER = N_(
    "Sorry, I only work for the members of this team. Ask your admin to add you "
    "to the org file or to send you an invite."
)
UNKNOWN_MENTION = N_("I don't know @%(handle)s. Check the name: /tasks all shows who is on the team.")


@dataclass(frozen=True)
class Defaults:
    """What the org says for people who did not choose: zone and language."""

    timezone: str = "UTC"
    language: str = "en"


_BY_ID = select(Person).where(Person.id == bindparam("id"))  # built once: every command's actor


def get_active(session: Session, person_id: int) -> Person:
    """The acting person, who must still be a member (held by the session, else one query)."""
    person = session.identity_map.get(identity_key(Person, person_id))
    if person is None:
        person = session.scalars(_BY_ID, {"id": person_id}).first()
    if person is None or not person.active:
        raise UnknownPerson(NOT_A_MEMBER)
    return person


def by_handle(session: Session, handle: str) -> Person | None:
    """An active member by @handle (case-insensitive)."""
    stmt = select(Person).where(Person.handle == handle.lower().rstrip(".-"), Person.active == True)  # noqa: E712
    return session.exec(stmt).first()


def resolve_mention(session: Session, handle: str) -> Person:
    """@handle -> Person, or a refusal naming the handle."""
    person = by_handle(session, handle)
    if person is None:
        raise BadInput(UNKNOWN_MENTION, handle=handle[:64])
    return person


# Built once: every /task with a mention runs it (a statement built per call costs as much as the query).
_ACTIVE_BY_HANDLES = select(Person).where(col(Person.handle).in_(bindparam("handles", expanding=True)),
                                          Person.active == True)  # noqa: E712


def resolve_mentions(session: Session, handles: list[str]) -> list[Person]:
    """Many @handles -> Persons in their order, in one query; a refusal names the first unknown one."""
    if not handles:
        return []
    keys = [h.lower().rstrip(".-") for h in handles]
    found = {p.handle: p for p in session.scalars(_ACTIVE_BY_HANDLES, {"handles": sorted(set(keys))})}
    for handle, key in zip(handles, keys):
        if key not in found:
            raise BadInput(UNKNOWN_MENTION, handle=handle[:64])
    return [found[key] for key in keys]


def manager_chain(session: Session, person: Person, limit: int = 50) -> list[Person]:
    """The person's manager, their manager, … up to the top (cycles cut)."""
    chain: list[Person] = []
    seen = {person.id}
    current = person
    while current.manager_id and current.manager_id not in seen and len(chain) < limit:
        current = session.get(Person, current.manager_id)
        if current is None:
            break
        seen.add(current.id)
        chain.append(current)
    return chain


def language_of(person: Person, defaults: Defaults) -> str:
    """The person's chosen language, else their chat app's, else the org's."""
    org = normalize(defaults.language)
    return normalize(person.language, normalize(person.platform_language, org))


def timezone_of(person: Person, defaults: Defaults) -> str:
    """The person's time zone, else the org's."""
    return person.timezone or defaults.timezone
