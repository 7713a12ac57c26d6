"""The payment request walked to its end through each branch, on a real store with the demo org.

Demo org: pavel -> olga -> ivan (CEO); maria is the accountant and the CFO; olga is an admin.
"""
from __future__ import annotations

import pytest

from core import forms
from core.chat.taps import answered
from core.domain.errors import BadInput, Forbidden, NotFound
from core.services import commands as c
from core.services import tasks
from tests.conftest import make_app
from tests.forms_desk import FILE, Desk

PAYMENT = dict(payee="Align Lab", purpose="Resin for the printers", pay_by="31.12.2026", invoice=FILE,
               budget_item="materials")
ORDER = {"file_id": "AgAD-order", "platform": "telegram", "name": "order.pdf"}


@pytest.fixture
def desk(sqlite_store, clock):
    return Desk(make_app(sqlite_store, None, clock), clock)


def pay_and_close(desk: Desk, task_id: int) -> None:
    desk.do(forms.complete_step, "maria", task_id, values={"payment_order": ORDER})
    assert desk.step(task_id) == "closing"
    desk.do(forms.complete_step, "maria", task_id,
            values={"closing_kinds": "act, waybill", "closing_documents": [{"file_id": "AgAD-act", "name": "act.pdf"}]})


def test_a_small_payment_goes_manager_accountant_closing(desk):
    task_id = desk.start("pavel", "payment_request", amount="15 000 RUB", **PAYMENT)
    assert desk.state(task_id) == ("active", "awaiting_approval")
    assert desk.step(task_id) == "manager" and desk.waiting(task_id) == ["Olga Reshetova"]
    assert desk.pending("olga") == [(task_id, "manager")]
    assert desk.view(task_id)["step"]["total"] == 3  # manager, pay, closing: no CFO, no CEO
    desk.do(forms.approve, "olga", task_id, comment="Fine")
    assert desk.step(task_id) == "pay" and desk.state(task_id) == ("active", "in_progress")
    assert desk.pending("olga") == [] and desk.pending("maria") == [(task_id, "pay")]
    pay_and_close(desk, task_id)
    assert desk.state(task_id) == ("done", "done")
    assert desk.decisions(task_id) == [("Olga Reshetova", "approved"), ("Maria Sokolova", "done"),
                                       ("Maria Sokolova", "done")]
    assert desk.values(task_id)["closing_kinds"] == ["act", "waybill"]


@pytest.mark.parametrize("amount, route", [
    ("100 000 RUB", ["manager", "pay"]),
    ("150 000 RUB", ["manager", "cfo", "pay"]),
    ("1,2 млн руб", ["manager", "cfo", "ceo", "pay"]),
])
def test_the_amount_adds_the_cfo_then_the_ceo(desk, amount, route):
    task_id = desk.start("pavel", "payment_request", amount=amount, **PAYMENT)
    walked = []
    while desk.step(task_id) != "pay":
        walked.append(desk.step(task_id))
        approver = {"manager": "olga", "cfo": "maria", "ceo": "ivan"}[desk.step(task_id)]
        desk.do(forms.approve, approver, task_id)
    assert walked + ["pay"] == route


def test_a_rejection_ends_the_request_and_the_author_hears_why(desk):
    task_id = desk.start("pavel", "payment_request", amount="150000", **PAYMENT)
    desk.do(forms.approve, "olga", task_id)
    with pytest.raises(BadInput):
        desk.do(forms.reject, "maria", task_id, "  ")  # a reason is required
    desk.do(forms.reject, "maria", task_id, "Over the quarter's budget")
    assert desk.state(task_id) == ("rejected", "cancelled")
    assert desk.step(task_id) is None and desk.pending("maria") == []
    assert desk.view(task_id)["decisions"][-1]["comment"] == "Over the quarter's budget"
    heard = desk.notices("pavel", "task_event")
    assert len(heard) >= 3  # olga's approval, maria's rejection, the end of the request


def test_the_payment_order_is_required_and_can_come_as_a_reply_with_a_file(desk):
    task_id = desk.start("pavel", "payment_request", amount="5000", **PAYMENT)
    desk.do(forms.approve, "olga", task_id)
    with pytest.raises(BadInput) as refused:
        desk.do(forms.complete_step, "maria", task_id)
    assert refused.value.msgid == "%(field)s is required."
    # A file sent as a reply to the card is attached to the task, and fills the step's file field.
    desk.do(tasks.attach_file, "maria", task_id, platform="telegram", file_id="AgAD-po", name="po.pdf",
            mime_type="application/pdf", size=1000)
    desk.do(forms.complete_step, "maria", task_id)
    assert desk.values(task_id)["payment_order"][0]["name"] == "po.pdf"
    assert desk.step(task_id) == "closing"


def test_strangers_stale_buttons_and_double_taps_change_nothing(desk):
    task_id = desk.start("pavel", "payment_request", amount="150000", **PAYMENT)
    manager_step = desk.step_id(task_id)
    with pytest.raises(Forbidden):
        desk.do(forms.approve, "ivan", task_id)  # he sees it (pavel reports to him) but it is not his step
    with pytest.raises(NotFound):
        desk.do(forms.approve, "maria", task_id)  # the CFO's turn has not come: she cannot even see it yet
    desk.do(forms.approve, "olga", task_id, step_id=manager_step)
    again = desk.do(forms.approve, "olga", task_id, step_id=manager_step)  # her card, tapped again
    assert again.changed is False and desk.step(task_id) == "cfo"
    assert len(desk.decision_rows(task_id)) == 1
    with pytest.raises(BadInput) as stale:
        desk.do(forms.approve, "maria", task_id, step_id=manager_step)
    assert stale.value.msgid.startswith("That step of #%(id)s is over")


def test_a_work_step_done_twice_is_done_once(desk):
    task_id = desk.start("pavel", "payment_request", amount="5000", **PAYMENT)
    desk.do(forms.approve, "olga", task_id)
    pay = desk.step_id(task_id)
    desk.do(forms.complete_step, "maria", task_id, step_id=pay, values={"payment_order": ORDER})
    again = desk.do(forms.complete_step, "maria", task_id, step_id=pay)
    assert again.changed is False and desk.step(task_id) == "closing"
    assert [d.outcome for d in desk.decision_rows(task_id)] == ["approve", "done"]


def test_an_unanswered_manager_step_escalates_to_their_manager(desk):
    task_id = desk.start("pavel", "payment_request", amount="5000", **PAYMENT)  # Monday 10:00 Moscow
    assert desk.tick(hours=23) == 0
    assert desk.tick(hours=2) == 1  # one working day later: Tuesday 10:00
    assert desk.waiting(task_id) == ["Ivan Petrov"]
    assert desk.pending("ivan") == [(task_id, "manager")] and desk.pending("olga") == []
    with pytest.raises(Forbidden):
        desk.do(forms.approve, "olga", task_id)  # it is out of her hands now
    assert desk.notices("ivan", "approval_request")[-1].context["reason"] == "escalated"
    desk.do(forms.approve, "ivan", task_id)
    assert desk.step(task_id) == "pay"


def test_the_closing_documents_are_reminded_daily_until_done(desk):
    task_id = desk.start("pavel", "payment_request", amount="5000", **PAYMENT)
    desk.do(forms.approve, "olga", task_id)
    desk.do(forms.complete_step, "maria", task_id, values={"payment_order": ORDER})
    asked = len(desk.notices("maria", "approval_request"))
    desk.tick(days=7)  # past the 5 working days
    desk.tick(days=1)
    desk.tick(hours=1)  # not yet the next day: no third reminder
    reminders = [o for o in desk.notices("maria", "approval_request") if o.context["reason"] == "reminder"]
    assert len(desk.notices("maria", "approval_request")) == asked + 2 == asked + len(reminders)
    desk.do(forms.complete_step, "maria", task_id, values={"closing_kinds": "1", "closing_documents": [FILE]})
    assert desk.tick(days=3) == 0 and desk.state(task_id)[0] == "done"


def test_the_approval_card_has_buttons_for_the_approver_only_while_it_waits(desk):
    task_id = desk.start("pavel", "payment_request", amount="150 000 RUB", **PAYMENT)
    card = desk.rendered("olga", "approval_request")
    step = desk.step_id(task_id)
    assert "Your approval is needed: Manager approval" in card.text
    assert "Step 1 of 4 — Manager approval, waiting for Olga Reshetova" in card.text
    assert "Amount: 150,000 RUB" in card.text
    assert [[b.command for b in row] for row in card.buttons] == [
        [c.ApproveStep(task_id, step), c.RejectStep(task_id, step), c.CommentTask(task_id)]]
    assert [[b.asks for b in row] for row in card.buttons] == [[None, "comment", "text"]]  # Reject asks why
    assert answered(card.buttons[0][1].command, "too much") == c.RejectStep(task_id, step, "too much")
    desk.do(forms.approve, "olga", task_id)
    late = desk.rendered("olga", "approval_request")  # a copy sent (or redrawn) after she decided
    assert [b.command for row in late.buttons for b in row] == [c.CommentTask(task_id)]
    assert late.text.startswith("This step is over: Manager approval")


def test_the_russian_card_speaks_russian(desk):
    task_id = desk.start("pavel", "payment_request", lang="ru", amount="150 000 RUB", **PAYMENT)
    card = desk.rendered("olga", "approval_request").text  # olga reads English: the form speaks both
    assert "Оплата Align Lab: 150 000 RUB" in card
    with desk.store.session() as session:
        from core.domain.models import Person
        session.get(Person, desk.id("olga")).language = "ru"
    card = desk.rendered("olga", "approval_request").text.replace("\xa0", " ")
    assert "Нужно ваше согласование: Согласование руководителя" in card and "Сумма: 150 000 RUB" in card
    assert "Шаг 1 из 4 — Согласование руководителя, ждёт: Olga Reshetova" in card
    del task_id
