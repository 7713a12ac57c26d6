"""Who acts on a step: named people, roles, the author, their manager, a person field, the chain."""
from __future__ import annotations

from sqlmodel import Session, select

from core.domain.models import Person
from core.forms.schema import Step, Who
from core.services.people import by_handle, manager_chain

# Who-entries that mean "above the author": when the author has nobody above,
# such a step has nobody to wait for and is passed by.
ABOVE = ("manager", "chain")


def resolve(session: Session, author: Person, values: dict, who: tuple[Who, ...], level: int = 0) -> list[Person]:
    """The active people a who-list names, each once, in the order written."""
    found: dict[int, Person] = {}
    for entry in who:
        for person in _one(session, author, values, entry, level):
            if person.active:
                found.setdefault(person.id, person)
    return list(found.values())


def _one(session: Session, author: Person, values: dict, entry: Who, level: int) -> list[Person]:
    if entry.kind == "author":
        return [author]
    if entry.kind == "manager":
        return manager_chain(session, author)[:1]
    if entry.kind == "chain":
        chain = manager_chain(session, author)
        return chain[level:level + 1]
    if entry.kind == "admins":
        return admins(session)
    if entry.kind == "role":
        return with_role(session, entry.arg)
    if entry.kind == "person":
        return [p for p in [member(session, entry.arg)] if p]
    handles = values.get(entry.arg) or []
    return [p for p in (member(session, h) for h in ([handles] if isinstance(handles, str) else handles)) if p]


def member(session: Session, handle: str) -> Person | None:
    """An active member by @handle, read once per unit of work: a request's person fields are
    resolved for its steps, shown on its card and in each language of its notices, all in one."""
    known = session.info.setdefault("forms.members", {})
    key = handle.lower().rstrip(".-")
    if key not in known:
        known[key] = by_handle(session, handle)
    return known[key]


def with_role(session: Session, role: str) -> list[Person]:
    """Active people holding a role (roles are a JSON list; a team is small enough to filter here)."""
    people = session.exec(select(Person).where(Person.active == True).order_by(Person.id)).all()  # noqa: E712
    return [p for p in people if role in (p.roles or [])]


def admins(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.active == True, Person.is_admin == True)  # noqa: E712
                             .order_by(Person.id)))


def only_above(step: Step) -> bool:
    """True when the step names only people above the author (manager, chain)."""
    return bool(step.who) and all(w.kind in ABOVE for w in step.who)


def has_level(session: Session, author: Person, level: int) -> bool:
    """Is there a manager `level` steps above the author's manager?"""
    return len(manager_chain(session, author)) > level
