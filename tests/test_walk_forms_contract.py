"""Contract approval filled in chat and walked to its end, on every platform: the lawyer, then finance and
the author's manager in parallel (both must approve), then the CEO signs; a rejection returns it to the
author, who changes it and sends it again.

Demo org: pavel -> olga (English) -> ivan (CEO); anna is the lawyer, maria the CFO.
"""
from __future__ import annotations


from tests.dialog import Turn
from tests.dialogs import CHAT_ONLY, File, Reply, Tap


CONTRACT = [("doc_type", "standard_contract"), ("counterparty", "Align Lab"), ("subject", "Supply of resin"),
            ("amount", "300 000 RUB"), ("dates", "01.01.2027–31.12.2027"), ("draft", File("draft.pdf"))]


def start(driver) -> None:
    driver.fill("pavel", "/form contract_approval", CONTRACT, sees={
        "pavel": ["Заявка #1 отправлена.", "Проект документа: draft.pdf", "Шаг 1 из 3 — Проверка юристом"],
        "anna": ["Нужно ваше согласование: Проверка юристом", "Проект документа: draft.pdf",
                 "Контрагент: Align Lab", "Сумма: 300 000 RUB"]})


def lawyer_approves(driver) -> None:
    driver.play([
        Turn("anna", Tap("Согласовать"), sees={
            "anna": ["Вы согласовали #1.", "Шаг 2 из 3 — Согласование финансов и руководителя, ждёт: Maria Sokolova, "
                                           "Olga Reshetova"],
            "pavel": ["Anna Kuznetsova: согласовал(а): Проверка юристом"],
            "maria": ["Нужно ваше согласование: Согласование финансов и руководителя"],
            "olga": ["Your approval is needed: Finance and manager approval"]}),
    ])


@CHAT_ONLY
def test_other_documents_ask_what_kind_and_letters_have_no_amount(driver):
    driver.play([
        Turn("pavel", "/form contract_approval", sees={"pavel": ["Тип документа", "Типовой договор"]}),
        Turn("pavel", "other", sees={"pavel": ["Какой документ"]}),
        Turn("pavel", "/back", sees={"pavel": ["Тип документа"]}),
        Turn("pavel", "official_letter", sees={"pavel": ["Контрагент"]}),
        Turn("pavel", "Clinic Smile", sees={"pavel": ["Предмет"]}),
        Turn("pavel", "A letter about the new prices", sees={"pavel": ["Срок действия"]},
             not_sees={"pavel": ["Сумма"]}),  # a letter has no amount
        Turn("pavel", "/skip", sees={"pavel": ["Проект документа"]}),
        Turn("pavel", "the letter", sees={"pavel": ["Проект документа"]}),  # words are not a file: asked again
        Turn("pavel", File("letter.pdf"), sees={"pavel": ["Тип документа: Официальное письмо",
                                                          "Проект документа: letter.pdf", "/submit"]},
             not_sees={"pavel": ["Сумма"]}),
        Turn("pavel", "/submit", sees={"pavel": ["Заявка #1 отправлена."],
                                       "anna": ["Официальное письмо: Clinic Smile", "Проверка юристом"]}),
    ])


def test_lawyer_then_finance_and_manager_both_then_the_ceo_signs(driver):
    start(driver)
    lawyer_approves(driver)
    driver.play([
        Turn("olga", Tap("Approve"), sees={
            "olga": ["You approved #1.", "waiting for Maria Sokolova"],
            "pavel": ["Olga Reshetova: согласовал(а)", "Шаг 2 из 3"], "anna": ["Olga Reshetova"],
            "maria": ["Olga Reshetova: согласовал(а)"]},
             not_sees={"olga": ["Step 3 of 3"]}),  # all of them must approve: Maria still has to
        Turn("maria", "/approvals", sees={"maria": ["Ждут вас:", "Согласование финансов и руководителя"]}),
        Turn("maria", Tap("#1 Согласовать"), sees={
            "maria": ["Вы согласовали #1.", "Шаг 3 из 3 — Подписание генеральным директором, ждёт: Ivan Petrov"],
            "pavel": ["Maria Sokolova: согласовал(а)"], "anna": ["Шаг 3 из 3"], "olga": ["Step 3 of 3"],
            "ivan": ["Подтвердите, что ознакомились: Подписание генеральным директором"]}),
        Turn("ivan", Tap("Ознакомлен(а)"), sees={
            "ivan": ["Вы ознакомились с #1.", "Согласование договора · завершена"],
            "pavel": ["заявка завершена"], "anna": ["заявка завершена"], "maria": ["заявка завершена"],
            "olga": ["the request is completed"]}),
    ])


@CHAT_ONLY
def test_a_rejection_returns_it_to_the_author_who_sends_it_again(driver):
    start(driver)
    lawyer_approves(driver)
    driver.play([
        Turn("maria", Tap("Отклонить"), sees={"maria": ["Почему вы отклоняете #1?"]}),
        Turn("maria", "Too expensive, ask for a discount", sees={
            "maria": ["Вы отклонили #1.", "возвращена на доработку"],
            "pavel": ["отклонил(а): Согласование финансов и руководителя «Too expensive, ask for a discount»",
                      "вернул(а) автору на доработку", "Ваш шаг: Доработка автором"],
            "olga": ["returned it to the author for rework"], "anna": ["вернул(а) автору на доработку"]}),
        Turn("olga", "/approvals", sees={"olga": ["Nothing waits for your decision."]}),  # her part is over too
        Turn("pavel", "/approvals", sees={"pavel": ["Доработка автором"]}),
        Turn("pavel", Tap("#1 Готово"), sees={"pavel": [
            "Измените в #1 то, что нужно", "(1/6) Тип документа:", "Сейчас: Типовой договор"]}),
    ])
    # Done on the rework asks the form again, each field with its value; /skip keeps it.
    driver.fill("pavel", Tap("Пропустить"), [("counterparty", "/skip"), ("subject", "/skip"), ("amount", "270 000 RUB"),
                                   ("dates", "/skip"), ("draft", "/skip")], sees={
        "pavel": ["Ваш шаг по #1 выполнен.", "Шаг 1 из 3 — Проверка юристом", "Сумма: 270 000 RUB"],
        "olga": ["submitted it again after rework"], "maria": ["отправил(а) снова после доработки"],
        "anna": ["отправил(а) снова после доработки", "Нужно ваше согласование: Проверка юристом",
                 "Сумма: 270 000 RUB", "Проект документа: draft.pdf"]})
    driver.play([
        # The route starts over: the lawyer, finance and manager, the CEO.
        Turn("anna", "/approve 1 Fine now", sees={"anna": ["Вы согласовали #1."], "pavel": ["«Fine now»"],
                                                   "maria": ["Нужно ваше согласование"],
                                                   "olga": ["Your approval is needed"]}),
        Turn("maria", "/approve 1", sees={"maria": ["Вы согласовали #1."], "pavel": ["#1"], "anna": ["#1"],
                                          "olga": ["#1"]}),
        Turn("olga", "/approve 1", sees={"olga": ["You approved #1.", "Step 3 of 3"], "pavel": ["#1"],
                                         "anna": ["#1"], "maria": ["#1"], "ivan": ["Подтвердите"]}),
        Turn("ivan", "/ack 1 Signed", sees={"ivan": ["Вы ознакомились с #1."], "pavel": ["заявка завершена"],
                                            "anna": ["#1"], "maria": ["#1"], "olga": ["the request is completed"]}),
    ])


def test_the_author_changes_the_draft_during_rework(driver):
    start(driver)
    lawyer_approves(driver)
    driver.tap("maria", "Отклонить")
    driver.say("maria", "Wrong counterparty details")
    driver.send_file("pavel", "draft-v2.pdf", task_id=1)  # a reply to the card with the new draft
    driver.play([
        Turn("pavel", "/complete 1 New details", sees={"pavel": [
            "Измените в #1 то, что нужно", "/skip оставляет ответ как есть", "(1/6) Тип документа:"]},
             not_sees={"pavel": ["выполнен"]}),
    ])
    screens = driver.fill("pavel", "/skip", [("counterparty", "Align Lab LLC"), ("subject", "/skip"),
                                             ("amount", "/skip"), ("dates", "/skip")], submit=False)
    assert "(6/6) Проект документа:" in screens["pavel"] and "Сейчас: draft-v2.pdf" in screens["pavel"], screens
    screens = driver.say("pavel", "/skip")  # keeps the file replied to the card
    assert "Проект документа: draft-v2.pdf" in screens["pavel"], screens["pavel"]
    assert "Заявка #1 будет отправлена снова" in screens["pavel"], screens["pavel"]
    screens = driver.say("pavel", "/submit")
    assert "Ваш шаг по #1 выполнен." in screens["pavel"], screens["pavel"]
    assert "Проект документа: draft-v2.pdf" in screens["pavel"], screens["pavel"]
    assert "Контрагент: Align Lab LLC" in screens["anna"] and "draft-v2.pdf" in screens["anna"], screens["anna"]
    assert "draft.pdf" not in screens["anna"].replace("draft-v2.pdf", ""), screens["anna"]


def test_a_new_draft_sent_while_the_rework_asks_replaces_the_old_one(driver):
    start(driver)
    lawyer_approves(driver)
    driver.tap("maria", "Отклонить")
    driver.say("maria", "Old template")
    driver.fill("pavel", Tap("Готово"), [("doc_type", "/skip"), ("counterparty", "/skip"), ("subject", "/skip"),
                                         ("amount", "/skip"), ("dates", "/skip"), ("draft", File("draft-v3.pdf"))],
                sees={"pavel": ["Ваш шаг по #1 выполнен.", "Проект документа: draft-v3.pdf"],
                      "anna": ["Нужно ваше согласование: Проверка юристом", "Проект документа: draft-v3.pdf"],
                      "olga": ["#1"], "maria": ["#1"]})


def test_a_request_on_its_way_is_not_closed_as_a_plain_task(driver):
    start(driver)
    driver.play([
        Turn("pavel", "/done 1", sees={"pavel": ["#1 — заявка в работе", "/withdraw 1"]},
             not_sees={"pavel": ["Задача #1 выполнена."]}),
        Turn("olga", "/done 1", sees={"olga": ["#1 is a request on its way: it closes when its route ends."]},
             not_sees={"olga": ["Task #1 is done."]}),  # an admin neither
        Turn("pavel", "/show 1", sees={"pavel": ["Согласование договора · в работе"]},
             not_sees={"pavel": ["закрыл(а) задачу"]}),
        Turn("anna", Tap("Согласовать"), sees={"anna": ["Вы согласовали #1.", "Шаг 2 из 3"], "pavel": ["#1"],
                                               "maria": ["#1"], "olga": ["#1"]}),  # the route goes on
    ])


def test_a_finished_request_is_not_reopened_as_a_plain_task(driver):
    start(driver)
    driver.play([
        Turn("pavel", "/withdraw 1", sees={"pavel": ["Заявка #1 отозвана."], "anna": ["#1"]}),
        Turn("pavel", "/reopen 1", sees={"pavel": ["#1 — завершённая заявка: её нельзя открыть снова."]},
             not_sees={"pavel": ["снова открыта"]}),
        Turn("pavel", "/show 1", sees={"pavel": ["Согласование договора · отозвана"]},
             not_sees={"pavel": ["открыл(а) задачу заново"]}),
    ])


def test_a_reply_to_a_requests_card_is_answered_with_the_requests_card(driver):
    start(driver)
    driver.play([
        Turn("anna", Reply(1, "Clause 7 needs a look"), sees={
            "anna": ["Комментарий к задаче #1 добавлен.", "Согласование договора · в работе", "Шаг 1 из 3"],
            "pavel": ["Clause 7 needs a look"]}, not_sees={"anna": ["Исполнитель:"]}),  # not the plain task card
    ])
    assert driver.buttons("anna") == ["Согласовать", "Отклонить", "Комментарий"]
