"""Contract approval, leave and overtime walked through each branch on a real store with the demo org.

Demo org: pavel -> olga -> ivan (CEO); maria is the CFO; anna is the lawyer and HR.
"""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from core import forms
from core.domain.errors import BadInput, Forbidden
from core.domain.models import Announcement
from core.services import announcements
from tests.conftest import make_app
from tests.forms_desk import FILE, Desk

CONTRACT = dict(doc_type="Standard contract", counterparty="Clinic Smile", subject="Supply of aligners",
                amount="300 000 RUB", dates="01.12.2026 - 30.11.2027", draft=FILE)


@pytest.fixture
def desk(sqlite_store, clock):
    return Desk(make_app(sqlite_store, None, clock), clock)


def test_a_contract_goes_lawyer_then_finance_and_manager_together_then_the_ceo_signs(desk):
    task_id = desk.start("pavel", "contract_approval", **CONTRACT)
    assert desk.step(task_id) == "legal" and desk.waiting(task_id) == ["Anna Kuznetsova"]
    desk.do(forms.approve, "anna", task_id, comment="Standard terms")
    assert desk.step(task_id) == "finance_and_manager"
    assert desk.waiting(task_id) == ["Maria Sokolova", "Olga Reshetova"]
    desk.do(forms.approve, "olga", task_id)
    assert desk.step(task_id) == "finance_and_manager" and desk.waiting(task_id) == ["Maria Sokolova"]
    desk.do(forms.approve, "maria", task_id)
    assert desk.step(task_id) == "sign" and desk.pending("ivan") == [(task_id, "sign")]
    with pytest.raises(BadInput):
        desk.do(forms.approve, "ivan", task_id)  # signing is an acknowledgement, not an approval
    desk.do(forms.acknowledge, "ivan", task_id)
    assert desk.state(task_id) == ("done", "done")
    assert [who for who, _ in desk.decisions(task_id)] == ["Anna Kuznetsova", "Olga Reshetova", "Maria Sokolova",
                                                           "Ivan Petrov"]


def test_a_rejected_contract_returns_to_its_author_and_starts_over_when_sent_again(desk):
    task_id = desk.start("pavel", "contract_approval", **CONTRACT)
    desk.do(forms.approve, "anna", task_id)
    desk.do(forms.approve, "olga", task_id)
    desk.do(forms.reject, "maria", task_id, "The amount must be in roubles with VAT")
    assert desk.state(task_id) == ("rework", "in_progress")
    assert desk.step(task_id) == "rework" and desk.pending("pavel") == [(task_id, "rework")]
    assert desk.view(task_id)["step"]["label"] == "Rework by the author"
    with pytest.raises(Forbidden):
        desk.do(forms.resubmit, "olga", task_id, {})
    desk.do(forms.resubmit, "pavel", task_id, {"amount": "354 000 RUB"}, comment="VAT added")
    assert desk.values(task_id)["amount"] == {"amount": "354000", "currency": "RUB"}
    assert desk.state(task_id) == ("active", "awaiting_approval") and desk.step(task_id) == "legal"
    desk.do(forms.approve, "anna", task_id)
    desk.do(forms.approve, "maria", task_id)
    desk.do(forms.approve, "olga", task_id)
    desk.do(forms.acknowledge, "ivan", task_id)
    assert desk.state(task_id) == ("done", "done")


def test_a_file_attached_during_rework_is_the_new_draft_when_sent_again(desk):
    from core.services import tasks

    task_id = desk.start("pavel", "contract_approval", **CONTRACT)
    desk.do(forms.reject, "anna", task_id, "Old template")
    desk.clock.advance(minutes=5)
    desk.do(tasks.attach_file, "pavel", task_id, platform="telegram", file_id="AgAD-v2", name="draft-v2.pdf",
            mime_type=None, size=None)
    desk.do(forms.resubmit, "pavel", task_id, {})  # nothing typed: the file replied to the card counts
    assert [item["name"] for item in desk.values(task_id)["draft"]] == ["draft-v2.pdf"]
    assert desk.step(task_id) == "legal"
    desk.do(forms.reject, "anna", task_id, "Still the old clause 7")
    desk.do(forms.resubmit, "pavel", task_id, {"subject": "Supply of aligners, clause 7 fixed"})
    assert [item["name"] for item in desk.values(task_id)["draft"]] == ["draft-v2.pdf"]  # no new file: kept


def test_the_draft_is_locked_once_the_ceo_signs(desk):
    form = desk.forms.get("contract_approval")
    with desk.store.session() as session:
        ctx = forms.Context(session, desk.id("pavel"), desk.clock())
        values = forms.check_submission(ctx, form, CONTRACT)
        stage = form.index("sign")
        with pytest.raises(Forbidden):
            forms.values.merge(ctx, form, values, {"draft": {"file_id": "new"}}, stage=stage)
        assert forms.values.merge(ctx, form, values, {"subject": "Supply"}, stage=stage)["subject"] == "Supply"


def test_other_documents_need_their_kind_and_letters_hide_the_amount(desk):
    form = desk.forms.get("contract_approval")
    with desk.store.session() as session:
        ctx = forms.Context(session, desk.id("pavel"), desk.clock())
        with pytest.raises(BadInput) as missing:
            forms.check_submission(ctx, form, {**CONTRACT, "doc_type": "other"})
        assert missing.value.params["field"].text("ru") == "Какой документ"
        letter = forms.check_submission(ctx, form, {**CONTRACT, "doc_type": "official_letter"})
    assert "amount" not in letter  # hidden: dropped
    assert [f.id for f in forms.fields_to_ask(form, {"doc_type": "official_letter"})] == [
        "doc_type", "counterparty", "subject", "dates", "draft"]


def test_approved_leave_is_announced_with_the_substitute(desk):
    task_id = desk.start("pavel", "leave_request", kind="1", dates="14.12.2026 - 27.12.2026", substitute="@maria")
    desk.do(forms.approve, "olga", task_id)
    assert desk.step(task_id) == "hr" and desk.waiting(task_id) == ["Anna Kuznetsova"]
    assert announcements.tick(desk.store, [("console", "announcements")], desk.clock()) == 0  # not yet
    desk.do(forms.acknowledge, "anna", task_id)
    assert desk.state(task_id) == ("done", "done")
    with desk.store.session() as session:
        post = session.exec(select(Announcement)).one()
    texts = json.loads(post.text)
    assert texts["en"] == "Pavel Smirnov is on leave 14 Dec 2026 – 27 Dec 2026; Maria Sokolova substitutes."
    assert texts["ru"].startswith("Pavel Smirnov в отпуске 14 дек. 2026")
    assert announcements.tick(desk.store, [("console", "announcements")], desk.clock()) == 1
    told = desk.notices("maria", "request_update")
    assert told[-1].context["text"]["en"].startswith("You substitute Pavel Smirnov")
    rendered = desk.rendered("maria", "request_update").text
    assert "Вы замещаете Pavel Smirnov" in rendered  # maria reads the org's language, Russian


def test_rejected_leave_is_not_announced(desk):
    task_id = desk.start("pavel", "leave_request", kind="vacation", dates="14.12.2026 - 27.12.2026",
                         substitute="maria")
    desk.do(forms.reject, "olga", task_id, "Release week")
    assert desk.state(task_id) == ("rejected", "cancelled")
    with desk.store.session() as session:
        assert session.exec(select(Announcement)).all() == []


def test_overtime_manager_approves_hr_acknowledges(desk):
    task_id = desk.start("pavel", "overtime", date="сегодня", hours="3,5", project="Clinic Smile",
                         reason="Urgent remake")
    assert desk.values(task_id)["hours"] == 3.5 and desk.values(task_id)["date"] == "2026-11-30"
    desk.do(forms.approve, "olga", task_id)
    desk.do(forms.acknowledge, "anna", task_id)
    assert desk.state(task_id) == ("done", "done")


def test_overtime_rejected_ends_and_an_author_at_the_top_skips_the_manager(desk):
    task_id = desk.start("pavel", "overtime", date="2026-11-29", hours=2, project="X", reason="Y")
    desk.do(forms.reject, "olga", task_id, "Not agreed in advance")
    assert desk.state(task_id) == ("rejected", "cancelled")
    top = desk.start("ivan", "overtime", date="2026-11-29", hours=2, project="X", reason="Y")
    assert desk.step(top) == "hr"  # the CEO has no manager: HR only
    with pytest.raises(BadInput):
        desk.start("pavel", "overtime", date="2026-11-29", hours=20, project="X", reason="Y")  # max 16
