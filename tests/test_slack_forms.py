"""Forms and approvals on Slack: a form filled in one modal (errors in place, conditional fields in a
follow-up view), approval cards with Approve / Reject (a reason asked in a modal), App Home listing
what waits for me. Signed requests as Slack sends them through the real bolt app, against the fake
Slack Web API on loopback."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from core.domain.models import StepDecision

from tests.slack_harness import GENERAL, SlackHarness
from tests.telegram_harness import TelegramHarness

LEAVE = {"kind": "Paid vacation", "dates": "14.12 – 24.12", "substitute": "@pavel", "comment": "Back on the 25th"}


@pytest.fixture
async def slack(sqlite_store, clock):
    async with SlackHarness(sqlite_store, clock) as harness:
        yield harness


def inputs(view: dict) -> dict[str, dict]:
    """Field id -> its input block."""
    return {b["block_id"].removeprefix("f:"): b for b in view["blocks"] if b["type"] == "input"}


async def send_leave(slack, who: str = "olga") -> dict:
    """Olga fills the leave form in its modal and sends it; returns her request's card."""
    assert (await slack.command(who, "/form leave_request")).text == ""
    reply = await slack.fill(who, slack.modal(who), LEAVE)
    assert reply.status == 200 and reply.text == "", reply.text  # the modal closes
    return slack.last(slack.dm(who))


async def test_a_leave_request_is_filled_in_one_modal_with_an_error_first(slack):
    assert (await slack.command("olga", "/form leave_request", channel=GENERAL)).text == ""
    modal = slack.modal("olga")
    assert modal["title"]["text"] == "Leave request" and modal["submit"]["text"] == "Send"
    fields = inputs(modal)
    assert list(fields) == ["kind", "dates", "substitute", "comment"]
    assert fields["kind"]["element"]["type"] == "static_select"
    assert "Paid vacation" in [o["text"]["text"] for o in fields["kind"]["element"]["options"]]
    assert fields["substitute"]["element"]["type"] == "static_select"  # the org's people, by name
    assert "Pavel Smirnov" in [o["text"]["text"] for o in fields["substitute"]["element"]["options"]]
    assert fields["comment"]["optional"] and not fields["dates"]["optional"]

    refused = await slack.fill("olga", modal, {**LEAVE, "dates": "sometime in winter"})
    assert refused.json()["response_action"] == "errors"
    assert list(refused.json()["errors"]) == ["f:dates"] and "period" in refused.json()["errors"]["f:dates"]
    empty = await slack.fill("olga", modal, {"kind": "Paid vacation"})
    assert {"f:dates", "f:substitute"} == set(empty.json()["errors"])  # required, left empty
    assert slack.fake.sent(slack.dm("olga")) == []  # nothing was sent while it had errors

    sent = await slack.fill("olga", modal, LEAVE)
    assert sent.status == 200 and sent.text == ""
    card = slack.last(slack.dm("olga"))  # the request's card goes to her DM, not to #general
    assert "Request #1 is sent." in slack.text(card) and "Step 1 of 2 — Manager approval" in slack.text(card)
    assert "Substitute: Pavel Smirnov" in slack.text(card) and "Dates: 14 Dec 2026 – 24 Dec 2026" in slack.text(card)
    assert slack.fake.sent(GENERAL) == []
    await slack.deliver()
    notice = slack.last(slack.dm("ivan"))  # the manager hears it in Russian, with the buttons to decide
    assert {"Согласовать", "Отклонить", "Комментарий"} <= set(slack.buttons(notice))


async def test_the_manager_approves_from_the_card_and_hr_acknowledges(slack):
    await send_leave(slack)
    await slack.deliver()
    notice = slack.last(slack.dm("ivan"))
    approve = slack.buttons(notice)["Согласовать"]["value"]
    await slack.tap("ivan", notice, "Согласовать")
    redrawn = slack.fake.message(notice["channel"], notice["ts"])  # now in English: his Slack says en-GB
    assert "Step 2 of 2 — HR" in slack.text(redrawn) and set(slack.buttons(redrawn)) == {"Comment"}
    await slack.deliver()
    assert "approved" in slack.text(slack.last(slack.dm("olga")))
    hr = slack.last(slack.dm("anna"))  # Anna reads Russian (the org's language) and acknowledges
    await slack.tap("anna", hr, "Ознакомлен(а)")
    await slack.deliver()
    assert "completed" in slack.text(slack.last(slack.dm("olga")))
    # A double tap on the old Approve (as a slow client sends it) changes nothing: the card is redrawn as it is.
    before = len(slack.fake.calls_of("chat.postMessage"))
    await slack.tap("ivan", notice, "Comment", value=approve)
    await slack.deliver()
    assert len(slack.fake.calls_of("chat.postMessage")) == before
    assert slack.text(slack.fake.message(notice["channel"], notice["ts"])).count("Manager approval: approved") == 1


async def test_reject_asks_for_the_reason_in_a_modal_and_the_author_hears_it(slack):
    await send_leave(slack)
    await slack.deliver()
    notice = slack.last(slack.dm("ivan"))
    await slack.tap("ivan", notice, "Отклонить")
    modal = slack.modal("ivan")
    assert modal["title"]["text"] == "Reject" and "Why do you reject #1?" in modal["blocks"][0]["label"]["text"]
    empty = await slack.submit("ivan", modal, "  ")
    assert empty.json()["response_action"] == "errors"  # a rejection needs its reason
    assert "rejected" not in slack.text(slack.fake.message(notice["channel"], notice["ts"]))
    done = await slack.submit("ivan", modal, "The release is that week")
    assert done.status == 200 and done.text == ""
    redrawn = slack.text(slack.fake.message(notice["channel"], notice["ts"]))
    assert "The release is that week" in redrawn and "Отклонить" not in slack.buttons(
        slack.fake.message(notice["channel"], notice["ts"]))
    await slack.deliver()
    told = slack.text(slack.last(slack.dm("olga")))
    assert "rejected" in told and "The release is that week" in told


async def test_a_stranger_to_the_step_cannot_approve_by_a_forged_tap(slack):
    await send_leave(slack)
    await slack.deliver()
    notice = slack.last(slack.dm("ivan"))
    await slack.tap("maria", notice, "Согласовать")  # Maria replays Ivan's button
    assert "#1" in json.dumps(slack.ephemerals("maria")[-1], ensure_ascii=False)
    assert "Шаг 1 из 2" in slack.text(slack.fake.message(notice["channel"], notice["ts"]))
    await slack.command("ivan", "/approvals")
    assert "#1" in json.dumps(slack.responses()[-1])  # still waiting for Ivan


async def test_app_home_lists_my_approvals_and_approves_from_there(slack):
    await send_leave(slack)
    await slack.open_home("ivan")
    home = slack.home("ivan")
    assert "Your approvals" in json.dumps(home) and "Manager approval" in json.dumps(home)
    approve = next(label for label in slack.buttons(home) if label.endswith("Approve"))
    await slack.tap_home("ivan", approve)
    home = slack.home("ivan")  # republished after the tap
    assert not any(label.endswith("Approve") for label in slack.buttons(home))
    assert "Nothing waits for your decision." in json.dumps(home)  # Ivan's Slack speaks English (en-GB)
    await slack.deliver()
    assert "approved" in slack.text(slack.last(slack.dm("olga")))


async def test_conditional_fields_come_in_a_follow_up_view(slack):
    await slack.command("olga", "/form contract_approval")
    modal = slack.modal("olga")
    assert "doc_type_other" not in inputs(modal) and "amount" not in inputs(modal)
    assert inputs(modal)["draft"]["element"]["type"] == "file_input"
    first = {"doc_type": "Other", "counterparty": "Smile Clinic", "subject": "Loan of a scanner",
             "draft": "scanner-loan.docx"}
    more = await slack.fill("olga", modal, first)
    assert more.json()["response_action"] == "update"
    follow_up = more.json()["view"]
    assert set(inputs(follow_up)) == {"doc_type_other", "amount"}  # shown by "Other"
    assert "A few more questions" in json.dumps(follow_up)
    bad = await slack.fill("olga", follow_up, {"doc_type_other": "Loan agreement", "amount": "a lot"})
    assert list(bad.json()["errors"]) == ["f:amount"]
    sent = await slack.fill("olga", follow_up, {"doc_type_other": "Loan agreement", "amount": "15 000 RUB"})
    assert sent.text == ""
    card = slack.text(slack.last(slack.dm("olga")))
    assert "Request #1 is sent." in card and "Smile Clinic" in card and "Amount: 15,000 RUB" in card
    assert "scanner-loan.docx" in card and "Draft" in card
    await slack.deliver()
    assert {"Согласовать", "Отклонить"} <= set(slack.buttons(slack.last(slack.dm("anna"))))  # the lawyer


async def test_escalate_opens_the_form_with_the_problem_filled_in(slack):
    await slack.command("olga", "/escalate The lab misses deadlines")
    modal = slack.modal("olga")
    assert inputs(modal)["problem"]["element"]["initial_value"] == "The lab misses deadlines"
    sent = await slack.fill("olga", modal, {"problem": "The lab misses deadlines",
                                            "impact": "Patients wait a week longer"})
    assert sent.text == ""
    assert "Escalation: The lab misses deadlines" in slack.text(slack.last(slack.dm("olga")))


async def test_who_may_not_start_a_form_hears_why_and_no_modal_opens(slack):
    await slack.command("pavel", "/form customer_complaint")  # sales and support file complaints
    assert slack.fake.modals == []
    assert "претензия клиента" in json.dumps(slack.responses()[-1], ensure_ascii=False).lower()
    await slack.command("olga", "/form no_such_form")
    assert "There is no form" in json.dumps(slack.responses()[-1]) and slack.fake.modals == []


async def test_a_forged_or_stale_modal_changes_nothing(slack):
    await slack.command("olga", "/form leave_request")
    modal = slack.modal("olga")
    forged = {**modal, "private_metadata": "{not json"}
    refused = await slack.fill("olga", forged, LEAVE)
    assert refused.json()["response_action"] == "errors"
    other = {**modal, "private_metadata": json.dumps({"form": "payment_request", "task": None})}
    refused = await slack.fill("olga", other, LEAVE)  # a form she did not open
    assert refused.json()["response_action"] == "errors"
    assert (await slack.fill("olga", modal, LEAVE)).text == ""
    again = await slack.fill("olga", modal, LEAVE)  # the same modal sent twice: one request
    assert again.json()["response_action"] == "errors" and "already sent" in json.dumps(again.json())
    await slack.command("olga", "/show 2")
    assert "#2" in json.dumps(slack.responses()[-1]) and "Request #2" not in json.dumps(slack.responses()[-1])


async def test_the_form_list_and_typed_step_commands_work_as_slash_commands(slack):
    await slack.command("olga", "/form")
    listed = json.dumps(slack.responses()[-1])
    assert "leave_request" in listed and slack.fake.modals == []
    await send_leave(slack)
    await slack.command("ivan", "/approve 1 Have a good rest")
    await slack.deliver()
    assert "Have a good rest" in slack.text(slack.last(slack.dm("olga")))


SPLIT_ORG = """\
timezone: Europe/Moscow
language: en
people:
  - {id: ivan, name: Ivan Petrov, telegram: ivan_petrov, roles: [ceo]}
  - {id: olga, name: Olga Reshetova, slack: U01OLGA0002, manager: ivan}
  - {id: pavel, name: Pavel Smirnov, slack: U01PAVEL004, manager: olga}
  - {id: anna, name: Anna Kuznetsova, slack: U01ANNA0005, manager: ivan, roles: [hr]}
"""


async def test_an_author_on_slack_and_her_manager_on_telegram_share_one_request(sqlite_store, clock, tmp_path):
    org = tmp_path / "org.yaml"
    org.write_text(SPLIT_ORG, encoding="utf-8")
    async with SlackHarness(sqlite_store, clock, org_file=org) as slack, \
            TelegramHarness(sqlite_store, clock, app=slack.app) as telegram:
        await telegram.private("ivan", "/start")  # Ivan is on Telegram only
        await send_leave(slack)
        await slack.deliver()
        card = telegram.last("ivan")
        assert "Manager approval" in card["text"] and "Olga Reshetova" in card["text"]
        await telegram.tap("ivan", card, telegram.buttons(card)["Approve"])
        redrawn = telegram.fake.message(card["chat"]["id"], card["message_id"])
        assert "Step 2 of 2 — HR" in redrawn["text"] and "Approve" not in telegram.buttons(redrawn)
        await slack.deliver()
        assert "approved" in slack.text(slack.last(slack.dm("olga")))  # she hears it on Slack
        hr = slack.last(slack.dm("anna"))
        await slack.tap("anna", hr, "Got it")  # HR, on Slack, acknowledges
        await slack.deliver()
        assert "completed" in slack.text(slack.last(slack.dm("olga")))
        with slack.app.store.session() as session:  # one request, decided once on each platform
            assert [(d.outcome) for d in session.exec(select(StepDecision).order_by(StepDecision.id))] == ["approve", "ack"]


PAYMENT = {"payee": "Dental Supply LLC", "amount": "15 000 RUB", "purpose": "Aligner trays, December batch",
           "pay_by": "18.12.2026", "invoice": "invoice-118.pdf", "budget_item": "Materials"}


async def test_a_payment_is_approved_paid_and_closed_with_its_fields_filled_in_modals(slack):
    await slack.command("pavel", "/form payment_request")
    modal = slack.modal("pavel")
    assert inputs(modal)["pay_by"]["element"]["type"] == "datepicker"
    assert inputs(modal)["invoice"]["element"]["type"] == "file_input"
    assert (await slack.fill("pavel", modal, PAYMENT)).text == ""
    await slack.deliver()
    manager = slack.last(slack.dm("olga"))
    await slack.tap("olga", manager, "Approve")
    await slack.deliver()
    pay = slack.last(slack.dm("maria"))  # the accountant's work step
    assert "Шаг 2 из 3 — Оплата" in slack.text(pay)  # Maria reads Russian
    await slack.tap("maria", pay, "Готово")
    order = slack.modal("maria")  # Done opens the fields the step fills
    assert set(inputs(order)) == {"payment_order"}
    assert (await slack.fill("maria", order, {"payment_order": "order-5521.pdf"})).text == ""
    redrawn = slack.text(slack.fake.message(pay["channel"], pay["ts"]))
    assert "order-5521.pdf" in redrawn
    await slack.deliver()
    closing = slack.last(slack.dm("maria"))
    await slack.tap("maria", closing, "Готово")
    docs = slack.modal("maria")
    assert set(inputs(docs)) == {"closing_kinds", "closing_documents"}
    assert inputs(docs)["closing_kinds"]["element"]["type"] == "multi_static_select"
    missing = await slack.fill("maria", docs, {"closing_documents": ["act.pdf"]})
    assert list(missing.json()["errors"]) == ["f:closing_kinds"]  # required from this step
    done = await slack.fill("maria", docs, {"closing_kinds": ["Акт", "Накладная"], "closing_documents": ["act.pdf"]})
    assert done.text == ""
    await slack.deliver()
    told = "\n".join(slack.text(m) for m in slack.fake.sent(slack.dm("pavel")))
    assert "завершена" in told  # Pavel reads Russian
    await slack.command("pavel", "/show 1")
    shown = slack.text(slack.last(GENERAL))
    assert "Акт, Накладная" in shown and "act.pdf" in shown and "order-5521.pdf" in shown


async def test_rework_opens_the_form_again_keeping_what_is_left_empty(slack):
    await slack.command("pavel", "/form contract_approval")
    contract = {"doc_type": "Типовой договор", "counterparty": "Smile Clinic", "subject": "Aligner supply",
                "amount": "90 000 RUB", "draft": "draft.pdf"}
    more = await slack.fill("pavel", slack.modal("pavel"), contract)
    assert (await slack.fill("pavel", more.json()["view"], contract)).text == ""  # amount: the follow-up
    await slack.deliver()
    legal = slack.last(slack.dm("anna"))
    await slack.tap("anna", legal, "Отклонить")
    await slack.submit("anna", slack.modal("anna"), "Wrong counterparty details")
    await slack.deliver()
    rework = slack.last(slack.dm("pavel"))
    assert "Доработка" in slack.text(rework)
    await slack.tap("pavel", rework, "Готово")
    again = slack.modal("pavel")  # the form's fields again, each keeping its value when left empty
    fields = inputs(again)
    assert {"doc_type", "counterparty", "subject", "draft"} <= set(fields)
    assert fields["counterparty"]["optional"] and fields["counterparty"]["element"]["initial_value"] == "Smile Clinic"
    assert fields["doc_type"]["element"]["initial_option"]["value"] == "standard_contract"
    assert fields["amount"]["element"]["initial_value"] == "90000 RUB"
    assert "draft.pdf" in fields["draft"]["hint"]["text"]  # a file cannot be shown in the input: said
    sent = await slack.fill("pavel", again, {"counterparty": "Smile Clinic LLC"})
    assert sent.text == "", sent.text
    await slack.deliver()
    back = slack.text(slack.last(slack.dm("anna")))  # the lawyer gets it again, changed
    assert "Smile Clinic LLC" in back and "Aligner supply" in back and "draft.pdf" in back
