"""The org file into the store: people (re)activated or deactivated, never deleted; managers,
identities, the reminder policy, webhooks and the work calendar saved with them."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from core.config.org_model import Org, OrgPerson
from core.domain import policy as org_policy
from core.domain import workdays
from core.domain.clock import to_db
from core.domain.models import Person
from core.infra import webhooks as org_webhooks
from core.infra.store import ORG_SYNC_LOCK, exclusive

_Identity = tuple[int | None, str | None]  # (telegram_id, slack_id)


def sync_org(session: Session, org: Org, *, now: datetime) -> None:
    """Make the Person table match `org` in the caller's session (flushes, never commits).

    Rows are matched by handle. People in the file are (re)activated; people no
    longer in it are deactivated, never deleted. A telegram id the bot learned is
    kept while the file still gives the same username and no id.

    Workers starting together each sync the same file: the first holds a lock until
    the caller commits, the others wait for it and then find every row in place
    (instead of inserting the same people and webhooks again and failing).
    """
    exclusive(session.connection(), ORG_SYNC_LOCK)  # before the first read: see the winner's rows
    rows = {row.handle: row for row in session.exec(select(Person)).all()}
    identities = _planned_identities(org, rows)
    _release_identities(session, rows, identities)
    for person in org.people:
        rows[person.handle] = _upsert(session, rows.get(person.handle), person, org, identities[person.handle], now)
    session.flush()  # new rows get ids before managers point at them
    _link_managers(org, rows)
    _deactivate_missing(org, rows)
    org_policy.save(session, org.reminders)
    org_webhooks.save(session, org.webhooks, now)
    workdays.save(session, org.calendar)
    session.flush()


def _planned_identities(org: Org, rows: dict[str, Person]) -> dict[str, _Identity]:
    """Each person's (telegram_id, slack_id) after the sync; the file's ids win over learned ones."""
    claimed = {p.telegram_id: p.handle for p in org.people if p.telegram_id is not None}
    plan: dict[str, _Identity] = {}
    for person in org.people:
        telegram_id = person.telegram_id
        if telegram_id is None:
            telegram_id = _learned_telegram_id(person, rows.get(person.handle))
        if claimed.get(telegram_id, person.handle) != person.handle:
            telegram_id = None
        plan[person.handle] = (telegram_id, person.slack_id)
    return plan


def _learned_telegram_id(person: OrgPerson, row: Person | None) -> int | None:
    """The numeric id the bot stored, if the file still names the same username."""
    if row is None or row.telegram_id is None or not person.telegram_username:
        return None
    stored = (row.telegram_username or "").lstrip("@").lower()
    return row.telegram_id if stored == person.telegram_username else None


def _release_identities(session: Session, rows: dict[str, Person], plan: dict[str, _Identity]) -> None:
    """Clear ids that move to someone else, so unique columns never clash mid-flush."""
    telegram_owner = {tg: handle for handle, (tg, _slack) in plan.items() if tg is not None}
    slack_owner = {slack: handle for handle, (_tg, slack) in plan.items() if slack is not None}
    changed = False
    for handle, row in rows.items():
        if row.telegram_id is not None and telegram_owner.get(row.telegram_id, handle) != handle:
            row.telegram_id, changed = None, True
        if row.slack_id is not None and slack_owner.get(row.slack_id, handle) != handle:
            row.slack_id, changed = None, True
    if changed:
        session.flush()


def _upsert(
    session: Session, row: Person | None, person: OrgPerson, org: Org, identity: _Identity, now: datetime
) -> Person:
    """Create or update one person's row from the file (the manager comes later)."""
    if row is None:
        row = Person(handle=person.handle, name=person.name, created_at=to_db(now))
        session.add(row)
    row.name, row.email = person.name, person.email
    row.telegram_id, row.slack_id = identity
    row.telegram_username = person.telegram_username
    # Only what the file says explicitly; otherwise keep the person's own
    # /settings choice (or None, meaning "the org's default").
    row.timezone = person.timezone or row.timezone
    row.language = person.language or row.language
    row.roles = list(person.roles)
    row.birthday = person.birthday
    row.is_admin, row.active = person.admin, True
    return row


def _link_managers(org: Org, rows: dict[str, Person]) -> None:
    """Point each person at their manager's row (all rows exist by now)."""
    for person in org.people:
        manager = rows.get(person.manager) if person.manager else None
        rows[person.handle].manager_id = manager.id if manager else None


def _deactivate_missing(org: Org, rows: dict[str, Person]) -> None:
    """People no longer in the file stay in the store, inactive."""
    in_file = {person.handle for person in org.people}
    for handle, row in rows.items():
        if handle not in in_file and row.invited_by is None:
            row.active = False
