"""Leave request and overtime, filled in chat and walked to their end, on every platform.

Demo org: olga (admin, English) -> ivan (CEO); pavel -> olga; anna is HR; everyone else reads Russian.
"""
from __future__ import annotations

from tests.dialog import Turn
from tests.dialogs import CHANNEL, Tap, Wait

LEAVE = [("kind", "vacation"), ("dates", "14.12–24.12"), ("substitute", "@pavel"), ("comment", "Back on the 25th")]


def fill_leave(driver) -> None:
    driver.fill("olga", "/form leave_request", LEAVE, sees={
        "olga": ["Request #1 is sent.", "Step 1 of 2 — Manager approval, waiting for Ivan Petrov",
                 "Substitute: Pavel Smirnov"],
        "ivan": ["Нужно ваше согласование: Согласование руководителя", "Ежегодный оплачиваемый",
                 "Даты: 14 дек. 2026 – 24 дек. 2026"]})


def test_leave_approved_hr_acknowledges_and_the_team_hears_who_substitutes(driver):
    fill_leave(driver)
    assert driver.buttons("ivan") == ["Согласовать", "Отклонить", "Комментарий"]
    driver.play([
        Turn("ivan", Tap("Согласовать"), sees={
            "ivan": ["Вы согласовали #1.", "Шаг 2 из 2 — Отдел кадров"],
            "olga": ["Ivan Petrov: approved: Manager approval", "Step 2 of 2 — HR, waiting for Anna Kuznetsova"],
            "anna": ["Подтвердите, что ознакомились: Отдел кадров"]}),
        Turn("anna", Tap("Ознакомлен(а)"), sees={
            "anna": ["Вы ознакомились с #1.", "Заявление на отпуск · завершена"],
            "olga": ["Anna Kuznetsova: acknowledged: HR", "the request is completed", "Leave request · completed"],
            "ivan": ["заявка завершена"],
            "pavel": ["Вы замещаете Olga Reshetova на время отпуска, 14 дек. 2026 – 24 дек. 2026."]}),
        # The announcement goes out with the scheduler's next tick (every 20 s), in the org's language.
        Turn("clock", Wait(minutes=1), sees={
            CHANNEL: ["Olga Reshetova в отпуске 14 дек. 2026 – 24 дек. 2026, замещает Pavel Smirnov."]}),
        Turn("olga", "/approvals", sees={"olga": ["Nothing waits for your decision."]}),
    ])


def test_leave_rejected_the_author_hears_why(driver):
    fill_leave(driver)
    driver.play([
        Turn("ivan", Tap("Отклонить"), sees={"ivan": ["Почему вы отклоняете #1?"]}),
        Turn("ivan", "The release is that week", sees={
            "ivan": ["Вы отклонили #1.", "The release is that week"],
            "olga": ["Ivan Petrov: rejected: Manager approval «The release is that week»"]},
             not_sees={"olga": ["Step 2 of 2"]}),
        Turn("anna", "/approvals", sees={"anna": ["Ничто не ждёт вашего решения."]}),
        Turn("clock", Wait(minutes=1), sees={}),  # nothing is announced, nobody substitutes
    ])


def test_overtime_manager_approves_hr_acknowledges_from_the_approvals_list(driver):
    driver.fill("pavel", "/form overtime", [("date", "29.11.2026"), ("hours", "3"), ("project", "Aligners for Smile"),
                                            ("reason", "An urgent order")], sees={
        "pavel": ["Заявка #1 отправлена.", "Часов: 3", "ждёт: Olga Reshetova"],
        "olga": ["Your approval is needed: Manager approval", "Hours: 3", "Date: 29 Nov 2026"]})
    driver.play([
        Turn("olga", Tap("Approve"), sees={
            "olga": ["You approved #1.", "Step 2 of 2 — HR, waiting for Anna Kuznetsova"],
            "pavel": ["Olga Reshetova: согласовал(а): Согласование руководителя"],
            "anna": ["Подтвердите, что ознакомились: Отдел кадров"]}),
        Turn("anna", "/approvals", sees={"anna": ["Ждут вас:", "#1 Переработка: Pavel Smirnov, 29 нояб. 2026, 3 ч"]}),
        Turn("anna", Tap("#1 Ознакомлен(а)"), sees={
            "anna": ["Вы ознакомились с #1.", "Сверхурочная работа · завершена"],
            "pavel": ["заявка завершена"], "olga": ["the request is completed"]}),
    ])
