"""A request's life around its route: on an existing task, withdrawn, seen on its card, climbing a chain,
driven by the scheduler's tick. The form here is a YAML file only."""
from __future__ import annotations

import pytest

from core import forms
from core.domain.errors import BadInput, Forbidden
from core.domain.models import Person, Task
from core.infra import scheduler
from core.presentation.views import Reader, task_view
from core.services import tasks
from tests.conftest import make_app
from tests.forms_desk import FILE, Desk

CHAIN = """
id: big_purchase
title: {en: Big purchase, ru: Крупная закупка}
fields:
  - {id: item, type: text, label: {en: Item, ru: Что купить}, required: true}
route:
  - id: chain
    kind: approve
    label: {en: Every manager up to the top, ru: Все руководители до самого верха}
    who: chain
    deadline: 4h
    escalate: true
"""


@pytest.fixture
def desk(sqlite_store, clock, tmp_path):
    (tmp_path / "big_purchase.yaml").write_text(CHAIN, encoding="utf-8")
    return Desk(make_app(sqlite_store, None, clock), clock, forms_dir=tmp_path)


def test_a_form_attached_to_a_task_keeps_its_comments_files_and_links(desk):
    pavel, olga = desk.id("pavel"), desk.id("olga")
    with desk.store.session() as session:
        task = tasks.create_task(session, pavel, "Buy a new printer", now=desk.clock()).task
        other = tasks.create_task(session, pavel, "Printer research", now=desk.clock()).task
    desk.do(tasks.comment, "pavel", task.id, "Three offers attached")
    desk.do(tasks.attach_link, "pavel", task.id, "https://example.com/offer")
    desk.do(tasks.link, "pavel", task.id, other.id)
    values = {"payee": "Printers Inc", "amount": "90000", "purpose": "Printer", "pay_by": "friday", "invoice": FILE,
              "budget_item": "equipment"}
    with desk.store.session() as session:
        out = forms.attach_form(session, pavel, desk.forms.get("payment_request"), task.id, values,
                                now=desk.clock(), tz="Europe/Moscow")
    assert out.task.id == task.id and out.task.title == "Buy a new printer"
    card = desk.view(task.id, "olga")
    assert card["form"] == "Payment request" and card["step"]["label"] == "Manager approval"
    with desk.store.session() as session:
        view = task_view(session, session.get(Task, task.id), Reader(session.get(Person, olga), "en", "UTC"),
                         desk.clock())
    assert (view["comments"], view["files"], view["links"]) == (1, 2, 1)  # files: the link and the invoice
    with pytest.raises(BadInput), desk.store.session() as session:  # one form per task
        forms.attach_form(session, pavel, desk.forms.get("overtime"), task.id, {}, now=desk.clock())


def test_the_author_withdraws_a_request(desk):
    task_id = desk.start("pavel", "overtime", date="2026-11-29", hours=2, project="X", reason="Y")
    with pytest.raises(Forbidden):
        desk.do(forms.cancel, "ivan", task_id)  # not the author, not an admin
    desk.do(forms.cancel, "pavel", task_id)
    assert desk.state(task_id) == ("cancelled", "cancelled") and desk.pending("olga") == []
    with pytest.raises(BadInput):
        desk.do(forms.approve, "olga", task_id)


def test_the_card_says_where_the_request_is_and_since_when(desk):
    task_id = desk.start("pavel", "payment_request", amount="150 000 RUB", payee="Align Lab", purpose="Resin",
                         pay_by="31.12.2026", invoice=FILE, budget_item="materials")
    desk.clock.advance(hours=1)
    desk.do(forms.approve, "olga", task_id, comment="OK by me")
    desk.clock.advance(hours=2)
    with desk.store.session() as session:
        session.get(Person, desk.id("pavel")).language = "en"
    text = desk.rendered("pavel", "task_event").text
    assert "Step 2 of 4 — CFO approval, waiting for Maria Sokolova since 2 hr" in text
    assert "Olga Reshetova — Manager approval: approved «OK by me»" in text
    assert "Olga Reshetova: approved: Manager approval «OK by me»" in text  # the history line


def test_a_chain_step_climbs_one_manager_at_a_time_up_to_the_top(desk):
    task_id = desk.start("pavel", "big_purchase", item="Scanner")
    assert desk.waiting(task_id) == ["Olga Reshetova"]
    desk.do(forms.approve, "olga", task_id)
    assert desk.waiting(task_id) == ["Ivan Petrov"] and desk.step(task_id) == "chain"
    desk.do(forms.approve, "ivan", task_id)
    assert desk.state(task_id) == ("done", "done")
    assert [who for who, _ in desk.decisions(task_id)] == ["Olga Reshetova", "Ivan Petrov"]


def test_the_schedulers_tick_escalates_overdue_steps(desk):
    task_id = desk.start("pavel", "big_purchase", item="Scanner")
    desk.clock.advance(hours=4, minutes=1)
    scheduler.tick(desk.app)
    assert desk.waiting(task_id) == ["Ivan Petrov"]
    desk.do(forms.reject, "ivan", task_id, "Not this year")
    assert desk.state(task_id) == ("rejected", "cancelled")


def test_a_requests_task_follows_its_route_not_done_or_reopen(desk):
    task_id = desk.start("pavel", "big_purchase", item="Scanner")
    for who in ("pavel", "olga"):  # the author, an admin
        with pytest.raises(Forbidden, match="request on its way"):
            desk.do(tasks.close, who, task_id)
    assert desk.state(task_id) == ("active", "awaiting_approval") and desk.waiting(task_id) == ["Olga Reshetova"]
    desk.do(forms.reject, "olga", task_id, "Not now")
    assert desk.state(task_id) == ("rejected", "cancelled")
    with pytest.raises(Forbidden, match="finished request"):
        desk.do(tasks.reopen, "pavel", task_id)
    assert desk.state(task_id) == ("rejected", "cancelled")
    with desk.store.session() as session:  # a plain task still closes and reopens
        plain = tasks.create_task(session, desk.id("pavel"), "Buy a new printer", now=desk.clock()).task.id
    desk.do(tasks.close, "pavel", plain)
    assert desk.do(tasks.reopen, "pavel", plain).task.status == "open"


def test_an_escalation_in_the_tick_of_the_morning_digest_is_in_the_new_approvers_digest(desk):
    """One tick crossing both 9:00 and a step's deadline: the step goes up first, then the digests are made,
    so the approver it was taken from is not sent a digest of what is no longer theirs."""
    from datetime import datetime, timezone

    from sqlmodel import select

    from core.domain.models import Outbox

    task_id = desk.start("pavel", "big_purchase", item="Scanner")
    assert desk.waiting(task_id) == ["Olga Reshetova"]
    desk.clock.now = datetime(2026, 12, 1, 6, 30, tzinfo=timezone.utc)  # Tuesday 9:30 in Moscow: 4 h long past
    scheduler.tick(desk.app)
    assert desk.waiting(task_id) == ["Ivan Petrov"]
    with desk.store.session() as session:
        digests = {row.recipient_id for row in session.exec(select(Outbox).where(Outbox.template == "digest"))}
    assert desk.id("ivan") in digests and desk.id("olga") not in digests


def test_a_step_command_is_read_with_or_without_the_step(desk):
    assert forms.read_action("42 s17 fine by me") == forms.ActionArgs(42, 17, None, "fine by me")
    assert forms.read_action("#42 s17_2") == forms.ActionArgs(42, 17, "2", "")
    assert forms.read_action("42 refund please") == forms.ActionArgs(42, None, None, "refund please")
    assert forms.read_action("refund") is None
