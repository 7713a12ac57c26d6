"""Decisions are race-free and idempotent, enforced by the database (SQLite, and PostgreSQL when CI has it)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import forms
from core.domain.clock import to_db
from core.domain.errors import Refusal
from core.domain.models import RequestStep, StepDecision
from tests.conftest import make_app
from tests.forms_desk import Desk

FORM = """
id: purchase
title: {en: Purchase, ru: Закупка}
fields:
  - {id: item, type: text, label: {en: Item, ru: Что}, required: true}
route:
  - id: either
    kind: approve
    label: {en: Either director, ru: Любой из директоров}
    who: [person:olga, person:ivan]
  - id: both
    kind: approve
    mode: all
    label: {en: Both directors, ru: Оба директора}
    who: [person:olga, person:ivan]
  - id: archive
    kind: acknowledge
    label: {en: Archive, ru: Архив}
    who: role:accountant
"""


@pytest.fixture
def desk(store, clock, tmp_path):
    (tmp_path / "purchase.yaml").write_text(FORM, encoding="utf-8")
    return Desk(make_app(store, None, clock), clock, forms_dir=tmp_path)


def at_once(desk: Desk, *moves) -> list:
    """Run each (who, use case, kwargs) in its own thread and transaction, released together."""
    barrier, results = threading.Barrier(len(moves)), [None] * len(moves)

    def run(index, who, use_case, kwargs):
        barrier.wait()
        try:
            results[index] = desk.do(use_case, who, kwargs.pop("task_id"), **kwargs)
        except Refusal as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, *move)) for i, move in enumerate(moves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a move never finished"
    return results


def steps(desk: Desk, task_id: int) -> list[tuple[str, str]]:
    with desk.store.session() as session:
        request = forms.records.request_of_task(session, task_id)
        return [(r.step_key, r.state) for r in session.exec(
            select(RequestStep).where(RequestStep.request_id == request.id).order_by(RequestStep.id))]


@pytest.mark.parametrize("round_", range(3))
def test_two_approvers_racing_on_an_any_step_give_one_outcome(desk, round_):
    task_id = desk.start("pavel", "purchase", item="Printer")
    step = desk.step_id(task_id)
    results = at_once(desk, ("olga", forms.approve, {"task_id": task_id, "step_id": step}),
                      ("ivan", forms.reject, {"task_id": task_id, "step_id": step, "reason": "No"}))
    winners = [r for r in results if not isinstance(r, Refusal)]
    assert len(winners) == 1, results
    assert len(desk.decision_rows(task_id)) == 1
    expected = [("either", "approved"), ("both", "open")] if results[0] is winners[0] else [("either", "rejected")]
    assert steps(desk, task_id) == expected


def test_the_same_person_tapping_twice_at_once_decides_once(desk):
    task_id = desk.start("pavel", "purchase", item="Printer")
    desk.do(forms.approve, "olga", task_id)
    step = desk.step_id(task_id)
    results = at_once(desk, ("olga", forms.approve, {"task_id": task_id, "step_id": step}),
                      ("olga", forms.approve, {"task_id": task_id, "step_id": step}))
    assert sorted(r.changed for r in results) == [False, True]
    assert desk.waiting(task_id) == ["Ivan Petrov"]
    assert [d.outcome for d in desk.decision_rows(task_id)] == ["approve", "approve"]  # either + both (olga)


def test_the_last_two_approvers_of_an_all_step_racing_close_it_once(desk):
    task_id = desk.start("pavel", "purchase", item="Printer")
    desk.do(forms.approve, "ivan", task_id)
    step = desk.step_id(task_id)
    results = at_once(desk, ("olga", forms.approve, {"task_id": task_id, "step_id": step}),
                      ("ivan", forms.approve, {"task_id": task_id, "step_id": step}))
    assert not any(isinstance(r, Refusal) for r in results), results
    assert steps(desk, task_id) == [("either", "approved"), ("both", "approved"), ("archive", "open")]


def test_the_database_refuses_a_second_decision_by_the_same_person(desk):
    task_id = desk.start("pavel", "purchase", item="Printer")
    step, olga = desk.step_id(task_id), desk.id("olga")
    with desk.store.session() as session:
        session.add(StepDecision(step_id=step, person_id=olga, outcome="approve", at=to_db(desk.clock())))
    with pytest.raises(IntegrityError):
        with desk.store.session() as session:
            session.add(StepDecision(step_id=step, person_id=olga, outcome="reject", at=to_db(desk.clock())))
