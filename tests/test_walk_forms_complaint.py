"""A customer complaint filled in chat and walked to its end through each branch, on every platform: the
responsible head investigates and decides (refund, remake or reject), a preventive action is agreed and
confirmed by the quality owner, a critical one reaches the CEO.

Demo org: kate (sales, support; Russian) files complaints; olga (English) is the responsible head here;
maria is the accountant; pavel owns quality; ivan is the CEO. The investigation and the preventive action are
work steps with fields of their own: tapping Done asks for them, field by field.
"""
from __future__ import annotations

import pytest

from tests.dialog import Turn
from tests.dialogs import CHAT_ONLY, File, Tap


COMPLAINT = [("stage", "manufacturing"), ("client", "Clinic Smile"), ("description", "The set does not fit"),
             ("severity", "high"), ("files", File("photo.jpg")), ("responsible", "@olga")]


def file_complaint(driver, severity: str = "high") -> None:
    answers = [(field, severity if field == "severity" else text) for field, text in COMPLAINT]
    steps = 6 if severity == "critical" else 5  # the CEO's step counts only for a critical one
    driver.fill("kate", "/form customer_complaint", answers, sees={
        "kate": ["Заявка #1 отправлена.", "Претензия клиента · в работе",
                 f"Шаг 1 из {steps} — Расследование, ждёт: Olga Reshetova", "Фото и файлы: photo.jpg"],
        "olga": ["Your turn: Investigation", "Client: Clinic Smile", "What happened: The set does not fit"]})


def investigate(driver) -> None:
    driver.fill("olga", Tap("Done"), [("root_cause", "A wrong scan from the clinic")], sees={
        "olga": ["You completed your step on #1.", "Root cause: A wrong scan from the clinic",
                 "Choose what happens next: Decision"],
        "kate": ["Olga Reshetova: выполнил(а): Расследование", "Причина: A wrong scan from the clinic"]})
    assert driver.buttons("olga") == ["Refund", "Remake", "Reject the complaint", "Comment"]


def prevent(driver, action: str = "Check every scan twice", heard: tuple = ()) -> None:
    driver.fill("olga", Tap("Done"), [("preventive_kind", "instruction"), ("preventive_action", action)], sees={
        "olga": ["You completed your step on #1.", "Preventive action: Instruction changed"],
        "kate": ["выполнил(а): Предупреждающее действие"],
        "pavel": ["Нужно ваше согласование: Подтверждение ответственного за качество",
                  f"Что именно меняется: {action}"],
        **{who: ["#1"] for who in heard}})


def test_only_sales_and_support_file_complaints(driver):
    driver.play([
        Turn("pavel", "/form customer_complaint", sees={"pavel": ["Вы не можете подать «Претензия клиента»"]}),
        Turn("pavel", "/form", sees={"pavel": ["/form leave_request"]}, not_sees={"pavel": ["customer_complaint"]}),
        Turn("kate", "/form", sees={"kate": ["/form customer_complaint — Претензия клиента"]}),
    ])


def refund(driver) -> None:
    driver.play([
        Turn("olga", Tap("Refund"), sees={
            "olga": ["Your decision on #1 is recorded.", "Step 3 of 5 — Refund, waiting for Maria Sokolova"],
            "kate": ["Olga Reshetova: выбрал(а) «Возврат денег»: Решение"],
            "maria": ["Ваш шаг: Возврат денег", "Клиент: Clinic Smile"]}),
        Turn("maria", Tap("Готово"), sees={
            "maria": ["Ваш шаг по #1 выполнен.", "Предупреждающее действие, ждёт: Olga Reshetova"],
            "kate": ["Maria Sokolova: выполнил(а): Возврат денег"],
            "olga": ["Maria Sokolova: done: Refund", "Your turn: Preventive action"]}),
    ])


def test_refund_branch_then_the_quality_owner_confirms_the_preventive_action(driver):
    file_complaint(driver)
    investigate(driver)
    refund(driver)
    prevent(driver, heard=("maria",))
    driver.play([
        Turn("pavel", Tap("Согласовать"), sees={
            "pavel": ["Вы согласовали #1.", "Претензия клиента · завершена"],
            "kate": ["заявка завершена"], "olga": ["the request is completed"], "maria": ["заявка завершена"]},
             not_sees={"pavel": ["генерального директора"]}),  # not critical: the CEO is not bothered
    ])


def test_a_preventive_action_sent_back_is_asked_for_again(driver):
    file_complaint(driver)
    investigate(driver)
    refund(driver)
    prevent(driver, heard=("maria",))
    driver.play([
        Turn("pavel", Tap("Отклонить"), sees={"pavel": ["Почему вы отклоняете #1?"]}),
        Turn("pavel", "Too vague: which instruction?", sees={
            "pavel": ["Вы отклонили #1."],
            "olga": ["Pavel Smirnov: rejected: Quality owner's confirmation «Too vague: which instruction?»",
                     "Your turn: Preventive action"],
            "kate": ["«Too vague: which instruction?»"], "maria": ["«Too vague: which instruction?»"]}),
    ])
    prevent(driver, "Scan checklist v2, signed by two", heard=("maria",))


@CHAT_ONLY
def test_a_preventive_action_sent_back_keeps_what_is_skipped(driver):
    file_complaint(driver)
    investigate(driver)
    refund(driver)
    prevent(driver, heard=("maria",))
    driver.tap("pavel", "Отклонить")
    driver.say("pavel", "Which instruction?")
    driver.play([
        Turn("olga", Tap("Done"), sees={"olga": [
            "#1 came back to your step", "/skip keeps an answer as it is", "(1/2) Preventive action:",
            "Now: Instruction changed — /skip keeps it."]}, not_sees={"olga": ["optional"]}),
        Turn("olga", Tap("Skip"), sees={"olga": ["(2/2) What exactly changes:",
                                                 "Now: Check every scan twice — /skip keeps it."]}),
        Turn("olga", "/back", sees={"olga": ["(1/2) Preventive action:", "Now: Instruction changed"]}),
        Turn("olga", "client_rule", sees={"olga": ["(2/2) What exactly changes:", "Now: Check every scan twice"]}),
        Turn("olga", "/skip", sees={"olga": ["Preventive action: New rule for working with clients",
                                             "What exactly changes: Check every scan twice",
                                             "Sending it completes your step on #1."]},
             not_sees={"olga": ["attached to task", "Client:"]}),  # the step's fields, not the whole request
        Turn("olga", "/submit", sees={
            "olga": ["You completed your step on #1.", "Preventive action: New rule for working with clients"],
            "kate": ["выполнил(а): Предупреждающее действие"], "maria": ["#1"],
            "pavel": ["Нужно ваше согласование", "Новое правило работы с клиентами",
                      "Что именно меняется: Check every scan twice"]}),
    ])


def test_remake_branch_and_a_critical_complaint_reaches_the_ceo(driver):
    file_complaint(driver, severity="critical")
    investigate(driver)
    driver.play([
        Turn("olga", Tap("Remake"), sees={
            "olga": ["Your decision on #1 is recorded.", "Step 3 of 6 — Remake, waiting for Olga Reshetova",
                     "Your turn: Remake"],
            "kate": ["«Переделать»"]}),
        Turn("olga", Tap("Done"), sees={
            "olga": ["You completed your step on #1.", "Your turn: Preventive action"],
            "kate": ["выполнил(а): Переделка"]}),
    ])
    prevent(driver)
    driver.play([
        Turn("pavel", Tap("Согласовать"), sees={
            "pavel": ["Вы согласовали #1.", "Информирование генерального директора, ждёт: Ivan Petrov"],
            "kate": ["согласовал(а)"], "olga": ["Pavel Smirnov: approved"],
            "ivan": ["Подтвердите, что ознакомились: Информирование генерального директора", "Критическая"]}),
        Turn("ivan", Tap("Ознакомлен(а)"), sees={
            "ivan": ["Вы ознакомились с #1.", "Претензия клиента · завершена"],
            "kate": ["заявка завершена"], "olga": ["the request is completed"], "pavel": ["заявка завершена"]}),
    ])


def test_a_rejected_complaint_still_gets_a_preventive_action(driver):
    file_complaint(driver)
    investigate(driver)
    driver.play([
        Turn("olga", Tap("Reject the complaint"), sees={
            "olga": ["Your decision on #1 is recorded.", "Your turn: Preventive action"],
            "kate": ["Решение: Отклонить претензию", "Шаг 3 из 4 — Предупреждающее действие"]}),
        Turn("olga", "/decide 1 refund", sees={"olga": ["#1"]}, not_sees={"olga": ["recorded"]}),  # it is over
    ])
    prevent(driver)
    driver.play([
        Turn("pavel", "/approve 1 Good", sees={
            "pavel": ["Вы согласовали #1.", "Претензия клиента · завершена"],
            "kate": ["заявка завершена"], "olga": ["the request is completed"]}),
    ])


def test_the_author_hears_which_outcome_was_chosen_even_one_called_reject(driver):
    file_complaint(driver)
    investigate(driver)
    driver.play([
        Turn("olga", Tap("Reject the complaint"), sees={
            "olga": ["Your decision on #1 is recorded."],
            "kate": ["Olga Reshetova: выбрал(а) «Отклонить претензию»: Решение"]},
             not_sees={"kate": ["отклонил(а): Решение"]}),
    ])


@pytest.mark.parametrize("who", ["maria", "ivan"])
def test_nobody_else_decides_a_complaint(driver, who):
    file_complaint(driver)
    investigate(driver)
    driver.play([
        Turn(who, "/decide 1 refund", sees={who: ["#1"]}, not_sees={who: ["записано"]}),
        Turn("olga", "/approvals", sees={"olga": ["Waiting for you:", "Decision"]}),
    ])
