"""Customer complaint, escalation and meeting walked through each branch on a real store with the demo org.

Demo org: pavel -> olga -> ivan (CEO); kate (sales) -> ivan; maria is the accountant; pavel owns quality.
"""
from __future__ import annotations

import pytest
from sqlmodel import select

from core import forms
from core.domain.errors import BadInput, Forbidden
from core.domain.models import Task, TaskEvent, TaskLink
from tests.conftest import make_app
from tests.forms_desk import Desk

COMPLAINT = dict(stage="Производство", client="Clinic Smile", description="The set does not fit",
                 severity="high", responsible="@olga")


@pytest.fixture
def desk(sqlite_store, clock):
    return Desk(make_app(sqlite_store, None, clock), clock)


def investigate_and_decide(desk: Desk, task_id: int, outcome: str) -> None:
    desk.do(forms.complete_step, "olga", task_id, values={"root_cause": "Wrong scan"})
    assert desk.step(task_id) == "decision"
    desk.do(forms.choose, "olga", task_id, outcome, comment="Our fault")


def prevent_and_confirm(desk: Desk, task_id: int) -> None:
    desk.do(forms.complete_step, "olga", task_id,
            values={"preventive_kind": "instruction", "preventive_action": "Check every scan twice"})
    assert desk.step(task_id) == "confirm" and desk.waiting(task_id) == ["Pavel Smirnov"]


def test_only_sales_and_support_file_complaints(desk):
    with pytest.raises(Forbidden):
        desk.start("pavel", "customer_complaint", **COMPLAINT)
    assert desk.start("olga", "customer_complaint", **COMPLAINT)  # admins may start any form


def test_refund_branch_with_a_preventive_action_sent_back_once(desk):
    task_id = desk.start("kate", "customer_complaint", **COMPLAINT)
    assert desk.step(task_id) == "investigate" and desk.waiting(task_id) == ["Olga Reshetova"]
    with pytest.raises(BadInput):
        desk.do(forms.complete_step, "olga", task_id)  # the root cause is required now
    investigate_and_decide(desk, task_id, "Возврат денег")
    assert desk.step(task_id) == "refund" and desk.waiting(task_id) == ["Maria Sokolova"]
    desk.do(forms.complete_step, "maria", task_id, comment="Refunded 12 000")
    assert desk.step(task_id) == "preventive"
    prevent_and_confirm(desk, task_id)
    desk.do(forms.reject, "pavel", task_id, "Too vague: which instruction?")
    assert desk.step(task_id) == "preventive" and desk.state(task_id)[0] == "active"
    prevent_and_confirm(desk, task_id)
    desk.do(forms.approve, "pavel", task_id)
    assert desk.state(task_id) == ("done", "done")  # not critical: the CEO is not bothered


def test_remake_branch_and_a_critical_complaint_reaches_the_ceo(desk):
    task_id = desk.start("kate", "customer_complaint", **{**COMPLAINT, "severity": "Critical"})
    investigate_and_decide(desk, task_id, "remake")
    assert desk.step(task_id) == "remake"
    desk.do(forms.complete_step, "olga", task_id)
    prevent_and_confirm(desk, task_id)
    desk.do(forms.approve, "pavel", task_id)
    assert desk.step(task_id) == "ceo"
    desk.do(forms.acknowledge, "ivan", task_id)
    assert desk.state(task_id) == ("done", "done")


def test_rejected_complaint_still_gets_a_preventive_action(desk):
    task_id = desk.start("kate", "customer_complaint", **COMPLAINT)
    investigate_and_decide(desk, task_id, "3")  # the third outcome: reject the complaint
    assert desk.step(task_id) == "preventive"
    with pytest.raises(BadInput):
        desk.do(forms.choose, "olga", task_id, "refund")  # the decision is over
    decision = desk.view(task_id)["decisions"][1]
    assert (decision["step"], decision["outcome"], decision["comment"]) == ("Decision", "Reject the complaint",
                                                                           "Our fault")


def test_an_unanswered_investigation_escalates_to_the_responsible_heads_manager(desk):
    task_id = desk.start("kate", "customer_complaint", **COMPLAINT)
    desk.tick(days=2, hours=1)  # Wednesday 11:00: past two working days
    assert desk.waiting(task_id) == ["Ivan Petrov"]
    desk.do(forms.complete_step, "ivan", task_id, values={"root_cause": "Found it myself"})
    assert desk.step(task_id) == "decision"


def test_escalation_resolved_by_the_line_manager(desk):
    task_id = desk.start("pavel", "escalation", problem="The printer is down", impact="No sets today")
    assert desk.waiting(task_id) == ["Olga Reshetova"]
    card = desk.rendered("olga", "approval_request")
    assert [b.label for row in card.buttons for b in row] == ["Resolved", "Escalate one level up", "Comment"]
    desk.do(forms.choose, "olga", task_id, "resolved", comment="Spare printer from the lab")
    assert desk.state(task_id) == ("done", "done")


def test_escalation_escalated_by_hand_and_at_the_top_it_cannot_go_higher(desk):
    task_id = desk.start("pavel", "escalation", problem="The printer is down", impact="No sets today")
    desk.do(forms.choose, "olga", task_id, "escalate", comment="Needs money")
    assert desk.waiting(task_id) == ["Ivan Petrov"]
    assert [b.label for row in desk.rendered("ivan", "approval_request").buttons for b in row] == [
        "Решено", "Комментарий"]  # ivan reads Russian; nobody is above him to escalate to
    with pytest.raises(BadInput):
        desk.do(forms.choose, "ivan", task_id, "escalate")
    desk.do(forms.choose, "ivan", task_id, "resolved", comment="Buy a new one")
    assert desk.state(task_id) == ("done", "done")


def test_an_unanswered_escalation_climbs_by_itself_to_the_top_and_then_reminds(desk):
    task_id = desk.start("pavel", "escalation", problem="The printer is down", impact="No sets today")
    desk.tick(days=1, minutes=1)
    assert desk.waiting(task_id) == ["Ivan Petrov"]
    assert desk.pending("olga") == [] and desk.pending("ivan") == [(task_id, "resolve")]
    desk.tick(days=1, minutes=1)
    assert desk.waiting(task_id) == ["Ivan Petrov"]  # the top: he is reminded instead
    assert [o.context["reason"] for o in desk.notices("ivan", "approval_request")] == ["new", "reminder"]
    desk.do(forms.choose, "ivan", task_id, "resolved")
    assert desk.state(task_id) == ("done", "done")


def test_a_meeting_tells_its_participants_and_its_action_items_become_linked_tasks(desk):
    task_id = desk.start("olga", "meeting", topic="Q1 plan", time="03.12.2026 15:00",
                         participants="@pavel @maria", agenda="Budget")
    assert desk.values(task_id)["participants"] == ["pavel", "maria"]
    assert desk.notices("pavel", "request_update")[0].context["text"]["en"].startswith(
        "Olga Reshetova invites you to “Q1 plan”, 3 Dec 2026, 15:00")
    assert desk.step(task_id) == "minutes" and desk.waiting(task_id) == ["Olga Reshetova"]
    with pytest.raises(BadInput) as bad:
        desk.do(forms.complete_step, "olga", task_id, values={
            "minutes": "Agreed", "action_items": "Order resin | @maria | someday"})
    assert bad.value.msgid == "Row %(row)s, %(column)s: %(problem)s"
    desk.do(forms.complete_step, "olga", task_id, values={
        "minutes": "Agreed on the budget",
        "action_items": "Order resin | @maria | 10.12.2026\nCalibrate printer 2 | @pavel |"})
    assert desk.state(task_id) == ("done", "done")
    with desk.store.session() as session:
        links = session.exec(select(TaskLink)).all()
        made = [session.get(Task, link.other_id) for link in links]
    assert [(t.title, t.assignee_id) for t in made] == [("Order resin", desk.id("maria")),
                                                        ("Calibrate printer 2", desk.id("pavel"))]
    assert made[0].due_at.hour == 15 and made[1].due_at is None  # 18:00 Moscow is 15:00 UTC
    minutes = desk.notices("pavel", "request_update")[-1].context["text"]["en"]
    assert minutes == "Minutes of “Q1 plan”: Agreed on the budget"
    with desk.store.session() as session:
        made_event = session.exec(select(TaskEvent).where(TaskEvent.task_id == task_id,
                                                          TaskEvent.kind == "tasks_created")).one()
    assert made_event.data["ids"] == [made[0].id, made[1].id]
    assert "#2 Order resin" in desk.rendered("maria", "task_event").text  # her new task reaches her
