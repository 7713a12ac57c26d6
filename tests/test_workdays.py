"""Working days: the org file's holidays and worked weekend days move "N working days" deadlines."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from core.config.org import parse_org
from core.domain import workdays
from core.domain.models import RequestStep
from core.domain.workdays import Calendar
from core.forms.schema import Deadline, due_after
from tests.conftest import make_app
from tests.forms_desk import Desk

HEAD = "people:\n  - id: ivan\n    name: Ivan\n"
FRIDAY_3PM = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)  # 15:00 in Moscow


def test_the_org_file_names_holidays_ranges_and_worked_weekend_days():
    org, problems = parse_org(HEAD + "holidays: [2026-12-31, 2027-01-01..2027-01-08]\nworking_days: [2027-01-09]\n")
    assert problems == []
    assert date(2027, 1, 5) in org.calendar.holidays and len(org.calendar.holidays) == 9
    assert org.calendar.working == {date(2027, 1, 9)}


def test_bad_holidays_are_reported_with_their_lines():
    _org, problems = parse_org(HEAD + "holidays:\n  - 2026-12-31\n  - 31.12.2026\n  - 2027-01-08..2027-01-01\n"
                                      "working_days: saturday\n")
    said = [(p.line, p.message) for p in problems]
    assert [line for line, _ in said] == [6, 7, 8]
    assert "'31.12.2026' is not a date" in said[0][1] and "working_days must be a list" in said[2][1]


@pytest.mark.parametrize("calendar, due", [
    (Calendar(), datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)),  # Monday 15:00
    (Calendar(holidays=frozenset({date(2026, 12, 7)})), datetime(2026, 12, 8, 12, 0, tzinfo=timezone.utc)),
    (Calendar(working=frozenset({date(2026, 12, 5)})), datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)),
])
def test_one_working_day_after_friday_afternoon(calendar, due):
    assert due_after(FRIDAY_3PM, Deadline(1, "working_days"), "Europe/Moscow", calendar) == due


def test_a_steps_deadline_skips_the_orgs_holidays(sqlite_store, clock):
    desk = Desk(make_app(sqlite_store, None, clock), clock)
    with sqlite_store.session() as session:  # as the org file's sync stores it
        workdays.save(session, Calendar(holidays=frozenset({date(2026, 12, 1), date(2026, 12, 2)})))
    task_id = desk.start("pavel", "overtime", date="2026-12-05", hours=3, project="Aligners", reason="Rush order")
    with sqlite_store.session() as session:
        step = session.exec(select(RequestStep).where(RequestStep.id == desk.step_id(task_id))).one()
    # Started Monday 30 Nov 10:00 Moscow; 1 working day, Tuesday and Wednesday off: Thursday 10:00.
    assert step.due_at.replace(tzinfo=timezone.utc) == datetime(2026, 12, 3, 7, 0, tzinfo=timezone.utc)
