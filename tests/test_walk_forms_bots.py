"""Forms that exist only as YAML files (TEAMFLOW_FORMS_DIR, no code), filled and walked in chat on every
platform; one has a bot step answered by the customer's service on loopback, which checks the HMAC
signature of every call.

The forms and the service are tests/test_forms_bots.py's (supplier_check: a bot check that may fill `risk`,
the lawyer when the risk is high, then the accountant) and tests/test_forms_lifecycle.py's (big_purchase:
every manager up to the top, 4 h each, escalating).
Demo org: pavel -> olga (admin, English) -> ivan (CEO); anna is the lawyer; maria the accountant.
"""
from __future__ import annotations

import pytest

from tests.dialog import Turn
from tests.dialogs import CHAT_ONLY, Tap, ThreadedService, Wait
from tests.test_forms_bots import FORM, SECRET, Service
from tests.test_forms_lifecycle import CHAIN


SUPPLIER = [("supplier", "Resin LLC"), ("inn", "7701234567"), ("risk", "/skip")]


@pytest.fixture
def service():
    """The customer's service, served from a thread on 127.0.0.1 so that any driver's loop can call it."""
    found = Service()
    with ThreadedService(found.handle) as served:
        found.url = served.url
        yield found


@pytest.fixture
def forms_dir(tmp_path, service, monkeypatch):
    """The YAML-only forms the driver's app loads (overrides tests/conftest.py's)."""
    monkeypatch.setenv("SUPPLIER_BOT_SECRET", SECRET)
    (tmp_path / "supplier_check.yaml").write_text(FORM.replace("URL", service.url), encoding="utf-8")
    (tmp_path / "big_purchase.yaml").write_text(CHAIN, encoding="utf-8")
    return tmp_path


def submit_supplier_check(driver) -> None:
    driver.fill("pavel", "/form supplier_check", SUPPLIER, sees={
        "pavel": ["Заявка #1 отправлена.", "Проверка поставщика", "Шаг 1 из 2 — Автоматическая проверка"]})


@CHAT_ONLY
def test_the_yaml_only_form_checks_its_fields(driver):
    driver.play([
        Turn("pavel", "/form supplier_check", sees={"pavel": ["(1/3) Поставщик"]}),
        Turn("pavel", "Resin LLC", sees={"pavel": ["(2/3) ИНН"]}),
        Turn("pavel", "12345", sees={"pavel": ["«12345»", "ИНН"]}),  # the form's pattern: asked again
        Turn("pavel", "/cancel", sees={"pavel": ["Форма отменена"]}),
    ])


def test_the_bot_approves_and_fills_the_risk_and_the_accountant_acknowledges(driver, service):
    service.answers = [{"decision": "approve", "comment": "Clean record", "fields": {"risk": "low"}}]
    submit_supplier_check(driver)
    driver.play([
        # The scheduler's bot job (every 5 s) makes the signed call; low risk: no lawyer.
        Turn("clock", Wait(), sees={
            "pavel": ["Teamflow: согласовал(а): Автоматическая проверка «Clean record»", "Риск: Низкий",
                      "бот — Автоматическая проверка: согласовано «Clean record»"],
            "maria": ["Подтвердите, что ознакомились: Бухгалтерия", "Поставщик: Resin LLC", "ИНН: 7701234567"]}),
        Turn("maria", Tap("Ознакомлен(а)"), sees={
            "maria": ["Вы ознакомились с #1.", "Проверка поставщика · завершена"], "pavel": ["заявка завершена"]}),
        Turn("clock", Wait(minutes=5), sees={}),  # settled: never called again
    ])
    assert len(service.received) == 1
    sent = service.received[0]["body"]
    assert sent["request"]["form"] == "supplier_check" and sent["step"]["key"] == "check"
    assert sent["request"]["values"] == {"supplier": "Resin LLC", "inn": "7701234567"}


def test_a_high_risk_adds_the_lawyer(driver, service):
    service.answers = [(503, None), {"decision": "approve", "fields": {"risk": "high"}}]
    submit_supplier_check(driver)
    driver.play([
        Turn("clock", Wait(), sees={}),  # the service fails: retried later, nobody bothered
        Turn("clock", Wait(minutes=1), sees={  # past the 30 s back-off
            "pavel": ["Риск: Высокий", "ждёт: Anna Kuznetsova"],
            "anna": ["Нужно ваше согласование: Проверка юристом", "Риск: Высокий"]}),
        Turn("anna", Tap("Согласовать"), sees={
            "anna": ["Вы согласовали #1."], "pavel": ["Anna Kuznetsova: согласовал(а): Проверка юристом"],
            "maria": ["Подтвердите, что ознакомились: Бухгалтерия"]}),
        Turn("maria", "/ack 1", sees={"maria": ["Вы ознакомились с #1."], "pavel": ["заявка завершена"],
                                      "anna": ["заявка завершена"]}),
    ])
    assert [r["delivery"] for r in service.received] == ["1:1", "1:2"]


def test_the_bot_rejects_and_the_author_hears_why(driver, service):
    service.answers = [{"decision": "reject", "comment": "On the sanctions list"}]
    submit_supplier_check(driver)
    driver.play([
        Turn("clock", Wait(), sees={"pavel": ["Teamflow: отклонил(а): Автоматическая проверка «On the sanctions list»",
                                              "заявка отклонена"]}),
        Turn("maria", "/approvals", sees={"maria": ["Ничто не ждёт вашего решения."]}),
    ])


def test_a_bad_answer_is_told_and_an_admin_decides_instead(driver, service):
    service.answers = [{"decision": "maybe"}]
    submit_supplier_check(driver)
    driver.play([
        Turn("clock", Wait(), sees={
            "pavel": ["unknown decision 'maybe'"],
            "olga": ["A bot step of", "unknown decision 'maybe'", "Your approval is needed: Automatic check"]}),
        Turn("olga", Tap("Approve"), sees={
            "olga": ["You approved #1."], "pavel": ["Olga Reshetova: согласовал(а): Автоматическая проверка"],
            "maria": ["Подтвердите, что ознакомились: Бухгалтерия"]}),
    ])


def test_a_chain_step_climbs_manager_by_manager_up_to_the_top(driver):
    driver.fill("pavel", "/form big_purchase", [("item", "A scanner")], sees={
        "pavel": ["Заявка #1 отправлена.", "ждёт: Olga Reshetova"],
        "olga": ["Your approval is needed: Every manager up to the top", "Item: A scanner"]})
    driver.play([
        Turn("olga", Tap("Approve"), sees={
            "olga": ["You approved #1.", "waiting for Ivan Petrov"], "pavel": ["ждёт: Ivan Petrov"],
            "ivan": ["Нужно ваше согласование: Все руководители до самого верха"]}),
        Turn("ivan", Tap("Согласовать"), sees={
            "ivan": ["Вы согласовали #1.", "Крупная закупка · завершена"], "pavel": ["заявка завершена"],
            "olga": ["the request is completed"]}),
    ])


def test_an_unanswered_chain_step_goes_up_past_its_deadline(driver):
    driver.fill("pavel", "/form big_purchase", [("item", "A scanner")])
    driver.play([
        Turn("clock", Wait(hours=3, minutes=59), sees={}),
        Turn("clock", Wait(minutes=1), sees={  # 4 hours: up to the next manager
            "olga": ["the deadline passed", "waiting for Ivan Petrov"], "pavel": ["срок истёк"],
            "ivan": ["Нужно ваше согласование: Все руководители до самого верха"]}),
        Turn("ivan", Tap("Отклонить"), sees={"ivan": ["Почему вы отклоняете #1?"]}),
        Turn("ivan", "Not this year", sees={"ivan": ["Вы отклонили #1."], "pavel": ["«Not this year»"],
                                            "olga": ["«Not this year»"]}),
    ])
