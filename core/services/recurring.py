"""Recurring tasks: `/task Weekly report @olga every monday 10:00`.

There is always one upcoming instance, due at the next occurrence; when that
time comes, the tick creates the instance for the occurrence after it. The
rule is stored as cron fields and read by APScheduler's CronTrigger in the
author's time zone, so "monday 10:00" stays 10:00 across DST changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.domain.clock import from_db, to_db
from core.domain.errors import BadInput, Forbidden, NotFound
from core.domain.models import Person, Recurrence
from core.infra.cron import next_fire
from core.presentation.i18n import N_
from core.services import tasks
from core.services.people import get_active

UNREADABLE_RULE = N_("I can't read \"%(rule)s\" as a repetition. Try \"every monday 10:00\", \"every day 9:00\", "
                     "\"every weekday 18:00\" or \"каждый понедельник в 10:00\".")
NOT_YOURS = N_("Only its author or an admin can stop repetition #%(id)s.")
NOT_FOUND = N_("Repetition #%(id)s doesn't exist.")
DAYS = {
    "mon": ("monday", "mon", "понедельник", "пн"), "tue": ("tuesday", "tue", "вторник", "вт"),
    "wed": ("wednesday", "wed", "среду", "среда", "ср"), "thu": ("thursday", "thu", "четверг", "чт"),
    "fri": ("friday", "fri", "пятницу", "пятница", "пт"), "sat": ("saturday", "sat", "субботу", "суббота", "сб"),
    "sun": ("sunday", "sun", "воскресенье", "вс"),
}
EVERY_DAY = ("day", "день", "daily")
WEEKDAYS = ("weekday", "weekdays", "будни", "будний", "workday")
FILLER = ("and", "и", ",", "at", "в", "во", "on", "day")
TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?$")


@dataclass(frozen=True)
class Rule:
    day_of_week: str
    hour: int
    minute: int

    def next_after(self, moment: datetime, tz: str) -> datetime:
        """The first occurrence strictly after `moment`, as aware UTC."""
        return to_db(next_fire(self.day_of_week, self.hour, self.minute, tz, moment))


def parse_rule(text: str) -> Rule:
    """'monday and thursday 10:00', 'день в 9:00', 'weekday' -> a Rule (default 9:00)."""
    days, hour, minute = [], 9, 0
    for word in re.findall(r"[\w:.]+|,", (text or "").lower())[:12]:
        if TIME.match(word):
            hour, minute = int(TIME.match(word).group(1)), int(TIME.match(word).group(2) or 0)
        elif word in EVERY_DAY and not days:
            days = ["*"]
        elif word in WEEKDAYS:
            days = ["mon-fri"]
        elif any(word in names for names in DAYS.values()):
            days.append(next(key for key, names in DAYS.items() if word in names))
        elif word not in FILLER:
            raise BadInput(UNREADABLE_RULE, rule=text[:60])
    if not days or not (0 <= hour < 24 and 0 <= minute < 60):
        raise BadInput(UNREADABLE_RULE, rule=(text or "")[:60])
    return Rule(",".join(dict.fromkeys(days)), hour, minute)


def create(session: Session, actor_id: int, title: str, rule: Rule, *, tz: str, now: datetime,
           assignee_id: int | None = None, watcher_ids: tuple[int, ...] = (), description: str = ""):
    """Make the repetition and its first instance, due at the first occurrence."""
    actor = get_active(session, actor_id)
    first = rule.next_after(now, tz)
    out = tasks.create_task(session, actor.id, title, now=now, assignee_id=assignee_id, watcher_ids_=watcher_ids,
                            due_at=first, description=description)
    recurrence = Recurrence(
        title=out.task.title, description=out.task.description, creator_id=actor.id, assignee_id=assignee_id,
        watcher_ids=list(watcher_ids), day_of_week=rule.day_of_week, hour=rule.hour, minute=rule.minute,
        timezone=tz, next_at=first, last_task_id=out.task.id, created_at=to_db(now),
    )
    session.add(recurrence)
    session.flush()
    return recurrence, out


def stop(session: Session, actor_id: int, recurrence_id: int) -> Recurrence:
    """No more instances (the open one stays)."""
    actor = get_active(session, actor_id)
    recurrence = session.get(Recurrence, recurrence_id) if 0 < recurrence_id < 2**62 else None
    if recurrence is None or not recurrence.active:
        raise NotFound(NOT_FOUND, id=recurrence_id)
    if actor.id != recurrence.creator_id and not actor.is_admin:
        raise Forbidden(NOT_YOURS, id=recurrence_id)
    recurrence.active = False
    session.add(recurrence)
    return recurrence


def mine(session: Session, actor_id: int) -> list[Recurrence]:
    """Active repetitions the person made or gets."""
    return list(session.exec(select(Recurrence).where(
        Recurrence.active == True,  # noqa: E712
        (Recurrence.creator_id == actor_id) | (Recurrence.assignee_id == actor_id)).order_by(Recurrence.next_at)))


def tick(store, now: datetime) -> int:
    """Each occurrence that came: create the instance for the next one."""
    with store.session() as session:
        due = list(session.exec(select(Recurrence).where(Recurrence.active == True, Recurrence.next_at <= to_db(now))  # noqa: E712
                                .order_by(Recurrence.next_at).limit(200).with_for_update(skip_locked=True)))
        for recurrence in due:
            _roll(session, recurrence, now)
        return len(due)


def _roll(session: Session, recurrence: Recurrence, now: datetime) -> None:
    """Create the next instance; a repetition whose author left the team stops."""
    creator = session.get(Person, recurrence.creator_id)
    if creator is None or not creator.active:
        recurrence.active = False
        session.add(recurrence)
        return
    rule = Rule(recurrence.day_of_week, recurrence.hour, recurrence.minute)
    following = rule.next_after(max(from_db(recurrence.next_at), now), recurrence.timezone)
    assignee = session.get(Person, recurrence.assignee_id) if recurrence.assignee_id else None
    out = tasks.create_task(session, creator.id, recurrence.title, now=now,
                            assignee_id=assignee.id if assignee and assignee.active else None,
                            watcher_ids_=tuple(recurrence.watcher_ids), due_at=following,
                            description=recurrence.description)
    recurrence.next_at, recurrence.last_task_id = following, out.task.id
    session.add(recurrence)
