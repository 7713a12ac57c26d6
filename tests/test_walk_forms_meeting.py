"""A meeting walked to its end, in chat, on every platform: the participants are told at once; after it the
organiser fills in the minutes and a table of action items, and each row becomes a task linked to the
meeting, with its assignee and due date.

Demo org: olga (English) organises; pavel and maria (Russian) take part. The minutes are the fields of a
work step: tapping Done asks for them, field by field; the table is typed one row a line.
"""
from __future__ import annotations


from tests.dialog import Turn
from tests.dialogs import CHAT_ONLY, Tap


ACTION_ITEMS = "Order resin | @maria | 10.12.2026\nCalibrate printer 2 | @pavel |"


def call_meeting(driver) -> None:
    driver.fill("olga", "/form meeting", [("topic", "Q1 plan"), ("time", "03.12.2026 15:00"),
                                          ("participants", "@pavel @maria"), ("agenda", "Budget")], sees={
        "olga": ["Request #1 is sent.", "Meeting · on its way", "Participants: Pavel Smirnov, Maria Sokolova",
                 "Your turn: Minutes"],
        "pavel": ["Olga Reshetova приглашает вас на встречу «Q1 plan», 3 дек. 2026, 15:00. Повестка: Budget"],
        "maria": ["Olga Reshetova приглашает вас на встречу «Q1 plan», 3 дек. 2026, 15:00. Повестка: Budget"]})


def the_tasks_are_there(driver) -> None:
    """Each row became a task with its assignee and due date, linked to the meeting."""
    driver.play([
        Turn("maria", "/tasks", sees={"maria": ["#2 Order resin", "10 дек., 18:00"]},
             not_sees={"maria": ["Calibrate printer 2"]}),
        Turn("pavel", "/tasks", sees={"pavel": ["#3 Calibrate printer 2"]}, not_sees={"pavel": ["Order resin"]}),
        Turn("maria", "/show 2", sees={"maria": ["Order resin", "Исполнитель: Maria Sokolova", "Автор: Olga Reshetova",
                                                 "10 дек., 18:00", "Ссылки: 1"]}),
        Turn("olga", "/show 1", sees={"olga": ["Meeting · completed", "Minutes: Agreed on the budget",
                                               "Order resin", "Calibrate printer 2"]}),
    ])


def test_the_participants_are_told_and_the_action_items_become_linked_tasks(driver):
    call_meeting(driver)
    driver.fill("olga", Tap("Done"), [("minutes", "Agreed on the budget"), ("action_items", ACTION_ITEMS)], sees={
        "olga": ["You completed your step on #1.", "Meeting · completed",
                 "1. Order resin · Maria Sokolova · 10 Dec 2026"],
        "pavel": ["Протокол встречи «Q1 plan»: Agreed on the budget", "#3 Calibrate printer 2",
                  "создал(а) задачу, исполнитель — Pavel Smirnov"],
        "maria": ["Протокол встречи «Q1 plan»: Agreed on the budget", "#2 Order resin",
                  "создал(а) задачу, исполнитель — Maria Sokolova, срок — 10 дек., 18:00"]})
    the_tasks_are_there(driver)


@CHAT_ONLY
def test_a_bad_row_is_asked_again_with_its_row_and_column(driver):
    call_meeting(driver)
    driver.play([
        Turn("olga", Tap("Done"), sees={"olga": ["(1/2) Minutes"]}),
        Turn("olga", "Agreed", sees={"olga": ["(2/2) Action items", "what | @who | by when"]}),
        Turn("olga", "Order resin | @maria | someday", sees={"olga": ["Row 1, By when:", "(2/2) Action items"]}),
        Turn("olga", "Order resin | @nobody |", sees={"olga": ["Row 1, Who:", "(2/2) Action items"]}),
        Turn("olga", "/cancel", sees={"olga": ["cancelled"]}),
        Turn("olga", "/approvals", sees={"olga": ["Waiting for you:", "Minutes"]}),  # nothing changed
    ])
