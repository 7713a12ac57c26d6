"""Forms and approvals through the console chat, as tables of turns."""
from __future__ import annotations

import pytest

from tests.dialog import Dialog, Turn


@pytest.fixture
def dialog(app, messenger):
    return Dialog(app, messenger)


def fill_leave(dialog) -> None:
    dialog.play([
        Turn("olga", "/form leave_request", sees={"olga": ["Filling “Leave request”", "(1/4) Type", "Paid vacation"]}),
        Turn("olga", "a long holiday", sees={"olga": ["“a long holiday” is not one of", "(1/4) Type"]}),  # a bad value: asked again
        Turn("olga", "vacation", sees={"olga": ["(2/4) Dates"]}),
        Turn("olga", "14.12–25.12", sees={"olga": ["(3/4) Substitute"]}),
        Turn("olga", "/back", sees={"olga": ["(2/4) Dates"]}),
        Turn("olga", "14.12–24.12", sees={"olga": ["(3/4) Substitute"]}),
        Turn("olga", "@pavel", sees={"olga": ["(4/4) Comment (optional"]}),
        Turn("olga", "Back on the 25th", sees={"olga": [
            "Check “Leave request”:", "Type: Paid vacation", "Dates: 14 Dec 2026 – 24 Dec 2026",
            "Substitute: Pavel Smirnov", "Comment: Back on the 25th", "/submit"]}),
        Turn("olga", "/submit", sees={
            "olga": ["Request #1 is sent.", "Leave request · on its way", "Step 1 of 2 — Manager approval",
                     "waiting for Ivan Petrov"],
            "ivan": ["Согласование руководителя", "Ежегодный оплачиваемый"]}),
    ])


def test_a_leave_request_is_filled_field_by_field_and_approved_by_button(dialog):
    fill_leave(dialog)
    screen = dialog.say("ivan", "/approvals")["ivan"]
    assert "Ждут вас:" in screen and "#1 Leave" in screen and "Согласование руководителя" in screen
    button = next(line for line in screen.split("\n") if "#1 Согласовать" in line).split("]")[0].split("[")[-1]
    dialog.play([
        Turn("ivan", button, sees={"ivan": ["Вы согласовали #1.", "Шаг 2 из 2 — Отдел кадров"],
                                   "olga": ["approved"], "anna": ["Отдел кадров"]}),
        Turn("ivan", "/approvals", sees={"ivan": ["Ничто не ждёт вашего решения."]}),
        Turn("ivan", "/approve 1", sees={"ivan": ["#1"]}, not_sees={"ivan": ["Вы согласовали"]}),
    ])


def test_the_manager_approves_by_command_with_a_comment(dialog):
    fill_leave(dialog)
    dialog.play([
        Turn("ivan", "/approve 1 Have a good rest", sees={"ivan": ["Вы согласовали #1.", "«Have a good rest»"],
                                                          "olga": ["Have a good rest"], "anna": ["Отдел кадров"]}),
    ])


def test_a_reject_needs_a_reason_and_the_author_hears_it(dialog):
    fill_leave(dialog)
    dialog.play([
        Turn("ivan", "/reject 1", sees={"ivan": ["/reject 1"]}),
        Turn("ivan", "/reject 1 The release is that week", sees={
            "ivan": ["Вы отклонили #1.", "The release is that week"],
            "olga": ["rejected", "The release is that week"]}),
        Turn("olga", "/approvals", sees={"olga": ["Nothing waits for your decision."]}),
    ])


def test_a_stranger_may_not_approve(dialog, app):
    fill_leave(dialog)
    dialog.play([
        Turn("maria", "/approve 1", sees={"maria": ["#1"]}, not_sees={"maria": ["approved", "согласовали"]}),
        Turn("maria", "/approvals", sees={"maria": ["Ничто не ждёт"]}),
        Turn("ivan", "/approvals", sees={"ivan": ["#1 Leave"]}),
    ])


def test_escalate_starts_the_escalation_form_with_the_problem_filled(dialog):
    dialog.play([
        Turn("olga", "/escalate The lab misses deadlines", sees={"olga": ["Filling “Escalation”", "(2/3) Impact"]}),
        Turn("olga", "Patients wait a week longer", sees={"olga": ["(3/3) Proposed way out (optional"]}),
        Turn("olga", "/skip", sees={"olga": ["Problem: The lab misses deadlines", "Impact: Patients wait"]}),
        Turn("olga", "/submit", sees={"olga": ["Request #1 is sent.", "Escalation: The lab misses deadlines"],
                                      "ivan": ["Решение"]}),
        Turn("ivan", "/decide 1 resolved Talked to the lab", sees={
            "ivan": ["Ваше решение по #1 записано."], "olga": ["Resolved"]}),
    ])


def test_cancel_drops_the_draft_and_plain_text_is_not_an_answer_then(dialog):
    dialog.play([
        Turn("olga", "/form leave_request", sees={"olga": ["(1/4) Type"]}),
        Turn("olga", "/submit", sees={"olga": ["Some fields are still empty"]}),
        Turn("olga", "/cancel", sees={"olga": ["The form is cancelled; nothing was sent."]}),
        Turn("olga", "vacation", sees={"olga": ["I work with commands"]}),
        Turn("olga", "/back", sees={"olga": ["You are not filling a form."]}),
    ])


@pytest.mark.parametrize("typed, answer", [
    ("/form nope", "There is no form “nope”."),
    ("/approve", "Give the request number: /approve 42"),
    ("/escalate", "Describe the problem"),
    ("/decide 5 yes", "#5"),
])
def test_bad_form_commands_get_a_clear_answer(dialog, typed, answer):
    assert answer in dialog.say("olga", typed)["olga"]


def test_form_lists_the_forms_in_the_readers_language(dialog):
    dialog.play([
        Turn("olga", "/form", sees={"olga": ["/form leave_request — Leave request", "/form escalation — Escalation"]}),
        Turn("pavel", "/form", sees={"pavel": ["/form leave_request — Заявление на отпуск"]}),
    ])


def test_a_form_is_attached_to_an_existing_task(dialog):
    dialog.say("olga", "/task Quarterly leave planning")
    dialog.play([
        Turn("olga", "/form leave_request #1", sees={"olga": ["(1/4) Type"]}),
        Turn("olga", "unpaid", sees={"olga": ["(2/4)"]}),
        Turn("olga", "14.12–24.12", sees={"olga": ["(3/4)"]}),
        Turn("olga", "@pavel", sees={"olga": ["(4/4)"]}),
        Turn("olga", "/skip", sees={"olga": ["It will be attached to task #1."]}),
        Turn("olga", "/submit", sees={"olga": ["The form is attached to task #1.", "Quarterly leave planning"],
                                      "ivan": ["Согласование руководителя"]}),
    ])
