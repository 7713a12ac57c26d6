"""Escalation walked to its end, in chat, on every platform: resolved by the line manager, escalated by hand
up to the CEO, and climbing by itself past its deadline.

Demo org: pavel -> olga (English) -> ivan (CEO, the top). The deadline is one working day.
"""
from __future__ import annotations

from tests.dialog import Turn
from tests.dialogs import Tap, Wait


def escalate(driver, problem: str = "The printer is down") -> None:
    driver.fill("pavel", f"/escalate {problem}", [("impact", "No sets today"), ("proposal", "/skip")], sees={
        "pavel": ["Заявка #1 отправлена.", f"Эскалация: {problem}", "ждёт: Olga Reshetova"],
        "olga": ["Choose what happens next: Resolution", f"Problem: {problem}", "Impact: No sets today"]})
    assert driver.buttons("olga") == ["Resolved", "Escalate one level up", "Comment"]


def test_resolved_by_the_line_manager(driver):
    escalate(driver)
    driver.play([
        Turn("olga", "/decide 1 resolved Spare printer from the lab", sees={
            "olga": ["Your decision on #1 is recorded.", "Escalation · completed"],
            "pavel": ["Olga Reshetova: выбрал(а) «Решено»: Решение «Spare printer from the lab»",
                      "заявка завершена"]}),
        Turn("olga", "/approvals", sees={"olga": ["Nothing waits for your decision."]}),
    ])


def test_escalated_by_hand_up_to_the_ceo_who_cannot_go_higher(driver):
    escalate(driver)
    driver.play([
        Turn("olga", Tap("Escalate one level up"), sees={
            "olga": ["Your decision on #1 is recorded.", "waiting for Ivan Petrov"],
            "pavel": ["Olga Reshetova: выбрал(а) «Эскалировать выше»: Решение", "ждёт: Ivan Petrov"],
            "ivan": ["Выберите, что дальше: Решение", "Проблема: The printer is down",
                     "Olga Reshetova — Решение: Эскалировать выше"]}),
    ])
    assert driver.buttons("ivan") == ["Решено", "Комментарий"]  # nobody is above him
    driver.play([
        Turn("ivan", "/decide 1 escalate", sees={"ivan": ["#1"]}, not_sees={"ivan": ["записано"]}),
        Turn("ivan", Tap("Решено"), sees={
            "ivan": ["Ваше решение по #1 записано.", "Эскалация · завершена"],
            "pavel": ["Ivan Petrov: выбрал(а) «Решено»", "заявка завершена"],
            "olga": ["Ivan Petrov: chose “Resolved”: Resolution", "the request is completed"]}),
    ])


def test_left_unanswered_it_climbs_by_itself_to_the_top_then_reminds(driver):
    escalate(driver, "The lab misses deadlines")
    driver.play([
        # Tuesday 9:00: not yet; the morning digest reminds her.
        Turn("clock", Wait(hours=23), sees={"olga": ["Good morning", "Waiting for your decision: 1"]}),
        Turn("clock", Wait(hours=1, minutes=1), sees={
            "olga": ["escalated “Resolution”: the deadline passed", "waiting for Ivan Petrov"],
            "pavel": ["передал(а) выше «Решение»: срок истёк"],
            "ivan": ["Выберите, что дальше: Решение", "Проблема: The lab misses deadlines"]}),
        Turn("olga", "/decide 1 resolved", sees={"olga": ["#1"]}, not_sees={"olga": ["recorded"]}),
        Turn("clock", Wait(days=1), sees={
            "ivan": ["Доброе утро", "Напоминание", "Выберите, что дальше: Решение", "просрочено"]}),
        Turn("ivan", Tap("Решено"), sees={
            "ivan": ["Ваше решение по #1 записано."], "pavel": ["заявка завершена"],
            "olga": ["the request is completed"]}),
    ])
