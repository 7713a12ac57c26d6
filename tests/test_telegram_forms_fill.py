"""Filling a form in Telegram by taps: answers, Skip, Back, Cancel and Send are inline keys under each question.

Real update JSON goes through the real dispatcher against the fake Bot API; a tap
is answered with a toast and the next question comes as a new message below.
"""
from __future__ import annotations

import pytest
from sqlmodel import select

from adapters.telegram.callbacks import FillTap
from core.domain.models import FormDraft, Person
from core.forms import load_forms
from tests.telegram_harness import TelegramHarness
from tests.test_dialog_forms import TRIP


@pytest.fixture
async def tg(sqlite_store, clock, tmp_path):
    """The bot with the trip form; everyone has opened the bot once."""
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "trip.yaml").write_text(TRIP, encoding="utf-8")
    async with TelegramHarness(sqlite_store, clock) as harness:
        harness.app.chat.forms = load_forms(extra_dir=tmp_path / "forms")
        for who in ("olga", "pavel", "ivan", "maria", "anna"):
            await harness.private(who, "/help")
        harness.fake.calls.clear()
        yield harness


def draft_values(tg, handle: str) -> dict | None:
    with tg.app.store.session() as session:
        person = session.exec(select(Person).where(Person.handle == handle)).one()
        draft = session.get(FormDraft, person.id)
        return dict(draft.values) if draft else None


async def tap(tg, who: str, question: dict, label: str) -> dict:
    """Tap `label` under `question`; the newest message to `who` after it (the next question, say)."""
    await tg.tap(who, question, tg.buttons(question)[label])
    return tg.last(who)


async def test_a_form_is_filled_by_taps_and_sent_from_its_summary(tg):
    await tg.private("olga", "/form trip")
    first = tg.last("olga")
    assert "(1/5) Transport" in first["text"]
    assert list(tg.buttons(first)) == ["Train", "Plane", "Car", "Cancel"]
    assert tg.buttons(first)["Plane"] == "f:pick:1:plane" and tg.buttons(first)["Cancel"] == "f:cancel:0:"
    second = await tap(tg, "olga", first, "Plane")
    assert tg.answers()[-1]["text"] == "Transport: Plane" and not tg.answers()[-1].get("show_alert")
    assert "(2/5) Hotel needed" in second["text"] and list(tg.buttons(second)) == ["Yes", "No", "Back", "Cancel"]
    third = await tap(tg, "olga", second, "Yes")
    assert "(3/5) Nights (optional" in third["text"] and list(tg.buttons(third)) == ["Skip", "Back", "Cancel"]
    await tg.private("olga", "3")  # typed, as always
    fourth = tg.last("olga")
    assert "(4/5) Travels with" in fourth["text"] and "Pavel Smirnov" in tg.buttons(fourth)
    fifth = await tap(tg, "olga", fourth, "Pavel Smirnov")
    assert "(5/5) City" in fifth["text"]
    await tg.private("olga", "Kazan")
    summary = tg.last("olga")
    assert "Check “Business trip”" in summary["text"] and "Travels with: Pavel Smirnov" in summary["text"]
    assert list(tg.buttons(summary)) == ["Send", "Back", "Cancel"]
    sent = await tap(tg, "olga", summary, "Send")
    assert tg.answers()[-1]["text"] == "Request #1 is sent."
    assert "Request #1 is sent." in sent["text"] and "Trip: Kazan" in sent["text"]
    assert tg.fake.calls_of("editMessageText") == []  # the summary is no card: nothing is redrawn over it
    assert draft_values(tg, "olga") is None
    await tg.deliver()
    card = tg.last("ivan")
    assert "Manager approval" in card["text"] and "Plane" in card["text"]
    await tg.tap("ivan", card, tg.buttons(card)["Approve"])
    assert tg.answers()[-1]["text"].startswith("You approved #1.")


async def test_skip_back_and_cancel_by_tap(tg):
    await tg.private("olga", "/form trip")
    second = await tap(tg, "olga", tg.last("olga"), "Car")
    third = await tap(tg, "olga", second, "No")
    fourth = await tap(tg, "olga", third, "Skip")
    assert "(4/5) Travels with" in fourth["text"] and draft_values(tg, "olga") == {"transport": "car", "hotel": False}
    back = await tap(tg, "olga", fourth, "Back")
    assert "(3/5) Nights" in back["text"]
    back = await tap(tg, "olga", back, "Back")
    assert "(2/5) Hotel needed" in back["text"] and draft_values(tg, "olga") == {"transport": "car"}
    gone = await tap(tg, "olga", back, "Cancel")
    assert "The form is cancelled; nothing was sent." in gone["text"] and draft_values(tg, "olga") is None
    assert tg.answers()[-1]["text"] == "The form is cancelled; nothing was sent."


async def test_a_tap_on_a_question_already_answered_is_refused_and_changes_nothing(tg):
    await tg.private("olga", "/form trip")
    first = tg.last("olga")
    second = await tap(tg, "olga", first, "Plane")
    messages = len(tg.sent_to("olga"))
    for label in ("Train", "Car"):
        await tg.tap("olga", first, tg.buttons(first)[label])
        answer = tg.answers()[-1]
        assert answer["show_alert"] is True
        assert answer["text"].startswith("That button is from a question already answered; nothing changed.")
    assert len(tg.sent_to("olga")) == messages  # no new question
    assert draft_values(tg, "olga") == {"transport": "plane"}
    third = await tap(tg, "olga", second, "No")
    await tg.tap("olga", second, tg.buttons(second)["Back"])  # Back from a question left behind
    assert tg.answers()[-1]["show_alert"] is True and draft_values(tg, "olga") == {"transport": "plane", "hotel": False}
    assert "(3/5) Nights" in third["text"]


@pytest.mark.parametrize("action, position, arg, refusal", [
    ("pick", 1, "boat", "That is not an answer to this question"),  # no such option
    ("pick", 1, "42", "That is not an answer to this question"),  # an index the field does not offer
    ("pick", 2, "yes", "That button is from a question already answered"),  # not the field asked
    ("pick", 0, "plane", "That button is from a question already answered"),
    ("back", 7, "", "That button is from a question already answered"),
    ("skip", 2, "", "That button is from a question already answered"),
    ("skip", 1, "", "Transport is required; it can't be skipped."),  # the field asked, but required
])
async def test_a_forged_tap_is_refused_and_changes_nothing(tg, action, position, arg, refusal):
    await tg.private("olga", "/form trip")
    question = tg.last("olga")
    messages = len(tg.sent_to("olga"))
    data = FillTap(verb=action, id=position, arg=arg).pack()
    await tg.tap("olga", question, data)
    answer = tg.answers()[-1]
    assert answer["show_alert"] is True and answer["text"].startswith(refusal)
    assert len(tg.sent_to("olga")) == messages and draft_values(tg, "olga") == {}


async def test_someone_elses_question_in_a_group_does_not_fill_their_form(tg):
    """A tap answers the tapper's own draft: a stranger to the form is told there is none."""
    await tg.private("olga", "/form trip")
    question = tg.last("olga")
    await tg.tap("maria", question, tg.buttons(question)["Plane"])
    assert tg.answers()[-1]["show_alert"] is True and draft_values(tg, "olga") == {}
    assert draft_values(tg, "maria") is None


async def test_a_russian_reader_gets_russian_keys(tg):
    await tg.private("pavel", "/form trip")
    question = tg.last("pavel")
    assert list(tg.buttons(question)) == ["Поезд", "Самолёт", "Машина", "Отмена"]
    second = await tap(tg, "pavel", question, "Поезд")
    assert list(tg.buttons(second)) == ["Да", "Нет", "Назад", "Отмена"]
    for typed in ("да", "/skip", "/skip", "Казань"):
        await tg.private("pavel", typed)
    assert list(tg.buttons(tg.last("pavel"))) == ["Отправить", "Назад", "Отмена"]


async def test_every_key_while_filling_fits_telegrams_64_bytes(tg):
    await tg.private("olga", "/form leave_request")
    keys = dict(tg.buttons(tg.last("olga")))
    for typed in ("vacation", "14.12–24.12"):
        await tg.private("olga", typed)
        keys.update(tg.buttons(tg.last("olga")))
    assert "Pavel Smirnov" in keys and keys["Paid vacation"] == "f:pick:1:vacation"
    assert all(len(data.encode()) <= 64 for data in keys.values())


async def test_a_document_sent_in_private_answers_the_file_question(sqlite_store, clock):
    from tests.fakes import telegram_api as fake
    from tests.telegram_harness import USERS

    async with TelegramHarness(sqlite_store, clock) as tg:
        for line in ("/form payment_request", "Dental Supply LLC", "15 000 RUB", "Aligner trays", "18.12.2026"):
            await tg.private("pavel", line)
        assert "Счёт" in tg.last("pavel")["text"]
        await tg.private("pavel", "it is in the mail")  # words for a file question: asked again
        assert "Пришлите сам файл" in tg.last("pavel")["text"]
        user_id, username, lang = USERS["pavel"]
        await tg.feed(fake.document_message(901, user_id, file_name="invoice-118.pdf", username=username,
                                            language_code=lang))
        assert "Статья бюджета" in tg.last("pavel")["text"]  # the next question
        assert draft_values(tg, "pavel")["invoice"][0]["name"] == "invoice-118.pdf"
        await tg.feed(fake.document_message(902, user_id, file_name="stray.pdf", username=username,
                                            language_code=lang))
        assert "не про файл" in tg.last("pavel")["text"]  # not a file question: nothing changed
        assert "stray.pdf" not in str(draft_values(tg, "pavel"))


async def test_done_on_a_work_step_asks_for_its_fields_then_finishes_it(sqlite_store, clock):
    from tests.fakes import telegram_api as fake
    from tests.telegram_harness import USERS

    def document(who: str, update_id: int, name: str, reply_to: dict | None = None) -> dict:
        user_id, username, lang = USERS[who]
        update = fake.document_message(update_id, user_id, file_name=name, username=username, language_code=lang)
        if reply_to is not None:
            update["message"]["reply_to_message"] = reply_to
        return update

    async with TelegramHarness(sqlite_store, clock) as tg:
        for who in ("olga", "maria", "ivan", "anna"):
            await tg.private(who, "/help")
        for line in ("/form payment_request", "Dental Supply LLC", "15 000 RUB", "Aligner trays", "18.12.2026"):
            await tg.private("pavel", line)
        await tg.feed(document("pavel", 901, "invoice-118.pdf"))
        for line in ("Materials", "/skip", "/submit"):
            await tg.private("pavel", line)
        await tg.deliver()
        await tg.tap("olga", tg.last("olga"), tg.buttons(tg.last("olga"))["Approve"])
        await tg.deliver()
        pay = tg.last("maria")
        await tg.feed(document("maria", 902, "order-5521.pdf", reply_to=pay))  # the payment order, as a reply
        await tg.tap("maria", pay, tg.buttons(pay)["Готово"])
        await tg.deliver()
        closing = tg.last("maria")
        assert "Закрывающие документы" in closing["text"]
        await tg.tap("maria", closing, tg.buttons(closing)["Готово"])
        question = tg.last("maria")  # Done asks first, below the card
        assert "Чтобы завершить шаг по #1" in question["text"] and "Получены закрывающие документы" in question["text"]
        await tg.private("maria", "act, waybill")
        await tg.feed(document("maria", 903, "act.pdf"))
        summary = tg.last("maria")
        assert "Акт, Накладная" in summary["text"] and "act.pdf" in summary["text"]
        await tg.tap("maria", summary, tg.buttons(summary)["Отправить"])
        assert "Ваш шаг по #1 выполнен." in tg.last("maria")["text"]
        await tg.deliver()
        assert "завершена" in tg.last("pavel")["text"]
