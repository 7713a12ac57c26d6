"""The payment request filled in chat and walked to its end through each branch, on every platform.

Demo org: pavel -> olga -> ivan (CEO); maria is the accountant and the CFO. Olga reads English, the rest
Russian. Files are sent as files (on the console `/file <name>` stands for one).
"""
from __future__ import annotations

import pytest

from tests.dialog import Turn
from tests.dialogs import CHAT_ONLY, File, Tap, Wait



def payment(amount: str) -> list:
    return [("payee", "Align Lab"), ("amount", amount), ("purpose", "Resin for the printers"),
            ("pay_by", "31.12.2026"), ("invoice", File("invoice.pdf")), ("budget_item", "materials"),
            ("project", "/skip")]


def ask_to_pay(driver, amount: str = "15 000 RUB", steps: int = 3) -> None:
    driver.fill("pavel", "/form payment_request", payment(amount), sees={
        "pavel": ["Заявка #1 отправлена.", "Счёт: invoice.pdf", f"Шаг 1 из {steps} — Согласование руководителя"],
        "olga": ["Your approval is needed: Manager approval", "Invoice: invoice.pdf",
                 f"Step 1 of {steps} — Manager approval, waiting for Olga Reshetova"]})


def pay(driver) -> None:
    """The accountant replies to her card with the payment order, then taps Done."""
    driver.play([
        Turn("maria", File("order.pdf", task=1), sees={
            "maria": ["Файл прикреплён к #1.", "Шаг 2 из 3 — Оплата"], "olga": ["attached a file: order.pdf"],
            "pavel": ["прикрепил(а) файл: order.pdf"]}),
        Turn("maria", Tap("Готово"), sees={
            "maria": ["Ваш шаг по #1 выполнен.", "Платёжное поручение: order.pdf",
                      "Закрывающие документы, ждёт: Maria Sokolova", "Ваш шаг: Закрывающие документы"],
            "olga": ["Maria Sokolova: done: Payment", "Payment order: order.pdf"],
            "pavel": ["Maria Sokolova: выполнил(а): Оплата"]}),
    ])


def test_a_small_payment_goes_manager_accountant_closing_documents(driver):
    ask_to_pay(driver)  # 15 000: no CFO, no CEO
    driver.play([
        Turn("olga", Tap("Approve"), sees={
            "olga": ["You approved #1.", "Step 2 of 3 — Payment, waiting for Maria Sokolova"],
            "pavel": ["Olga Reshetova: согласовал(а): Согласование руководителя"],
            "maria": ["Ваш шаг: Оплата", "Счёт: invoice.pdf"]}),
    ])
    pay(driver)
    driver.fill("maria", Tap("Готово"), [("closing_kinds", "act, waybill"), ("closing_documents", File("act.pdf"))],
                sees={"maria": ["Ваш шаг по #1 выполнен.", "Заявка на оплату · завершена",
                                "Получены закрывающие документы: Акт, Накладная", "act.pdf"],
                      "olga": ["the request is completed"], "pavel": ["заявка завершена"]})
    driver.play([Turn("maria", "/approvals", sees={"maria": ["Ничто не ждёт вашего решения."]})])


@CHAT_ONLY
def test_the_payment_order_is_required_to_pay(driver):
    ask_to_pay(driver)
    driver.tap("olga", "Approve")
    driver.play([
        Turn("maria", Tap("Готово"), sees={"maria": ["Платёжное поручение"]}),  # asked for it
        Turn("maria", "paid it", sees={"maria": ["Платёжное поручение"]}),  # words are not a file
        Turn("maria", File("order.pdf"), sees={"maria": ["/submit"]}),
        Turn("maria", "/submit", sees={"maria": ["Ваш шаг по #1 выполнен.", "Платёжное поручение: order.pdf"],
                                       "olga": ["done: Payment"], "pavel": ["выполнил(а): Оплата"]}),
    ])


def test_the_closing_documents_are_reminded_daily_until_they_are_in(driver):
    ask_to_pay(driver)
    driver.tap("olga", "Approve")
    pay(driver)
    driver.play([
        # Five working days from Monday 10:00 is next Monday 10:00 (the morning digest comes at 9:00);
        # then a reminder each day until the documents are in.
        Turn("clock", Wait(days=6, hours=23), sees={"maria": ["Доброе утро"]}, not_sees={"maria": ["Напоминание"]}),
        Turn("clock", Wait(hours=1, minutes=1), sees={"maria": ["Напоминание", "Ваш шаг: Закрывающие документы",
                                                                "просрочено"]}),
        Turn("clock", Wait(hours=23), sees={"maria": ["Доброе утро"]}, not_sees={"maria": ["Напоминание"]}),
        Turn("clock", Wait(hours=1), sees={"maria": ["Напоминание", "Закрывающие документы"]}),
    ])
    driver.fill("maria", "/complete 1", [("closing_kinds", "1"), ("closing_documents", File("act.pdf"))],
                sees={"maria": ["Заявка на оплату · завершена"], "olga": ["completed"], "pavel": ["завершена"]})
    driver.play([Turn("clock", Wait(days=1), sees={})])  # nothing waits for anyone now: no reminder, no digest


@pytest.mark.parametrize("amount, approvers", [
    ("100 000 RUB", [("olga", "Approve", "Manager approval")]),  # not above 100 000: no CFO
    ("150 000 RUB", [("olga", "Approve", "Manager approval"),
                     ("maria", "Согласовать", "Согласование финансового директора")]),
    ("1,2 млн руб", [("olga", "Approve", "Manager approval"),
                     ("maria", "Согласовать", "Согласование финансового директора"),
                     ("ivan", "Согласовать", "Согласование генерального директора")]),
])
def test_the_amount_adds_the_cfo_then_the_ceo(driver, amount, approvers):
    total = len(approvers) + 2  # + payment, closing documents
    ask_to_pay(driver, amount, total)
    decided = []
    for n, (who, label, step) in enumerate(approvers, 1):
        following = approvers[n][0] if n < len(approvers) else "maria"
        asked = f"Нужно ваше согласование: {approvers[n][2]}" if n < len(approvers) else "Ваш шаг: Оплата"
        now = f"Step {n + 1} of {total}" if who == "olga" else f"Шаг {n + 1} из {total}"
        sees = {who: ["#1", now], "pavel": [f"Шаг {n + 1} из {total}"],
                **{earlier: ["#1"] for earlier in decided}}  # who decided before now watches the request
        sees.setdefault(following, []).append(asked)
        driver.play([Turn(who, Tap(label), sees=sees)])
        decided.append(who)
    waiting = driver.say("maria", "/approvals")["maria"]
    assert "Ждут вас:" in waiting and "Оплата" in waiting


def test_a_rejected_payment_ends_and_the_author_hears_why(driver):
    ask_to_pay(driver, "150 000 RUB", 4)
    driver.play([
        Turn("olga", Tap("Approve"), sees={"olga": ["You approved #1."], "pavel": ["согласовал(а)"],
                                           "maria": ["Согласование финансового директора"]}),
        Turn("maria", Tap("Отклонить"), sees={"maria": ["Почему вы отклоняете #1?"]}),
        Turn("maria", "Over the quarter's budget", sees={
            "maria": ["Вы отклонили #1.", "отклонено «Over the quarter's budget»"],
            "pavel": ["Maria Sokolova: отклонил(а): Согласование финансового директора «Over the quarter's budget»",
                      "Заявка на оплату · отклонено", "заявка отклонена"],
            "olga": ["Maria Sokolova: rejected: CFO approval «Over the quarter's budget»"]}),
        Turn("maria", "/approvals", sees={"maria": ["Ничто не ждёт вашего решения."]}),
        Turn("maria", "/approve 1", sees={"maria": ["#1"]}, not_sees={"maria": ["Вы согласовали"]}),
    ])
