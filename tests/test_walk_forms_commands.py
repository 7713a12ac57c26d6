"""The form commands themselves, the same on every platform: listing, filling (back, skip, cancel, a bad
value asked again, numbers), attaching to a task, and who may decide.

Demo org: olga (admin, English) -> ivan (CEO); pavel -> olga; maria and anna read Russian.
"""
from __future__ import annotations

import pytest

from tests.dialog import Turn
from tests.dialogs import CHAT_ONLY, Tap



def test_form_lists_the_forms_in_the_readers_language(driver):
    driver.play([
        Turn("olga", "/form", sees={"olga": ["/form leave_request — Leave request", "/form escalation — Escalation",
                                             "/form customer_complaint — Customer complaint",
                                             "/form <name> #42 attaches a form to an existing task."]}),  # an admin
        Turn("pavel", "/form", sees={"pavel": ["/form leave_request — Заявление на отпуск"]},
             not_sees={"pavel": ["customer_complaint"]}),  # only sales and support file complaints
        Turn("kate", "/form", sees={"kate": ["/form customer_complaint — Претензия клиента",
                                             "/form <имя> #42 — прикрепить форму к существующей задаче."]}),
    ])


@CHAT_ONLY
def test_a_form_is_filled_with_back_skip_a_bad_value_and_a_choice_by_number(driver):
    driver.play([
        Turn("olga", "/form leave_request", sees={"olga": ["Filling “Leave request”", "(1/4) Type", "Paid vacation"]}),
        Turn("olga", "a long holiday", sees={"olga": ["“a long holiday” is not one of", "(1/4) Type"]}),
        Turn("olga", "2", sees={"olga": ["(2/4) Dates"]}),  # the second option, by its number
        Turn("olga", "14.12–25.12", sees={"olga": ["(3/4) Substitute"]}),
        Turn("olga", "/back", sees={"olga": ["(2/4) Dates"]}),
        Turn("olga", "14.12–24.12", sees={"olga": ["(3/4) Substitute"]}),
        Turn("olga", "@pavel", sees={"olga": ["(4/4) Comment (optional"]}),
        Turn("olga", "/skip", sees={"olga": ["Check “Leave request”:", "Type: Unpaid leave",
                                             "Dates: 14 Dec 2026 – 24 Dec 2026", "Substitute: Pavel Smirnov"]},
             not_sees={"olga": ["Comment:"]}),
        Turn("olga", "/submit", sees={"olga": ["Request #1 is sent."], "ivan": ["За свой счёт"]}),
    ])


@CHAT_ONLY
def test_cancel_drops_the_draft_and_plain_text_is_not_an_answer_then(driver):
    driver.play([
        Turn("olga", "/form leave_request", sees={"olga": ["(1/4) Type"]}),
        Turn("olga", "/submit", sees={"olga": ["Some fields are still empty"]}),
        Turn("olga", "/cancel", sees={"olga": ["The form is cancelled; nothing was sent."]}),
        Turn("olga", "vacation", sees={"olga": ["I work with commands"]}),
        Turn("olga", "/back", sees={"olga": ["You are not filling a form."]}),
    ])
    assert driver.answered("olga") is None


@pytest.mark.parametrize("typed, answer", [
    ("/form nope", "There is no form “nope”."),
    ("/approve", "Give the request number: /approve 42"),
    ("/reject 5", "Say why you reject it, like: /reject 5 the amount is over budget"),
    ("/escalate", "Describe the problem"),
    ("/decide 5 yes", "#5"),
])
@CHAT_ONLY
def test_bad_form_commands_get_a_clear_answer(driver, typed, answer):
    driver.play([Turn("olga", typed, sees={"olga": [answer]})])


def test_a_form_is_attached_to_an_existing_task(driver):
    driver.say("olga", "/task Quarterly leave planning")
    driver.fill("olga", "/form leave_request #1", [("kind", "unpaid"), ("dates", "14.12–24.12"),
                                                   ("substitute", "@pavel"), ("comment", "/skip")], sees={
        "olga": ["The form is attached to task #1.", "Quarterly leave planning"],
        "ivan": ["Согласование руководителя"]})


def test_only_the_steps_approver_decides_it(driver):
    driver.fill("pavel", "/form overtime", [("date", "29.11.2026"), ("hours", "2.5"), ("project", "X"),
                                            ("reason", "Y")])
    driver.play([
        Turn("maria", "/approve 1", sees={"maria": ["#1"]}, not_sees={"maria": ["согласовали"]}),
        Turn("ivan", "/approve 1", sees={"ivan": ["#1"]}, not_sees={"ivan": ["согласовали"]}),
        Turn("maria", "/approvals", sees={"maria": ["Ничто не ждёт"]}),
        Turn("olga", "/approvals", sees={"olga": ["Waiting for you:", "#1 Переработка"]}),
        Turn("olga", Tap("#1 Approve"), sees={"olga": ["You approved #1."], "pavel": ["согласовал(а)"],
                                              "anna": ["Подтвердите, что ознакомились"]}),
        Turn("olga", "/approve 1", sees={"olga": ["#1"]}, not_sees={"olga": ["You approved"]}),  # over
    ])
