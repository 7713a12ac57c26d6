"""Reading a field's value from chat text: what is understood, and what is refused with an example."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain.errors import BadInput, NotFound
from core.forms import Context, check_value, read_value, show
from core.forms.schema import Field, Label, Option
from core.presentation.render import refusal_text
from tests.conftest import START, make_app

L = Label.of({"en": "Amount", "ru": "Сумма"})
CHOICE = Field("budget", "choice", Label.of("Budget"), 1, options=(
    Option("materials", Label.of({"en": "Materials", "ru": "Материалы"})),
    Option("services", Label.of({"en": "Services", "ru": "Услуги"}))))
TABLE = Field("items", "table", Label.of("Items"), 1, columns=(
    Field("what", "text", Label.of({"en": "What", "ru": "Что"}), 1, required=True),
    Field("who", "person", Label.of("Who"), 1), Field("due", "date", Label.of({"en": "By when", "ru": "Срок"}), 1)))


@pytest.fixture
def ctx(app):
    with app.store.session() as session:
        yield Context(session, 2, START, "Europe/Moscow")


def field(kind: str, **options) -> Field:
    return Field("f", kind, L, 1, **options)


@pytest.mark.parametrize("kind, text, value", [
    ("money", "150 000 RUB", {"amount": "150000", "currency": "RUB"}),
    ("money", "$1,200.50", {"amount": "1200.5", "currency": "USD"}),
    ("money", "2,5 млн руб.", {"amount": "2500000", "currency": "RUB"}),
    ("money", "150k", {"amount": "150000", "currency": "RUB"}),
    ("money", "99 €", {"amount": "99", "currency": "EUR"}),
    ("number", "1 500,5", 1500.5),
    ("number", "12", 12),
    ("date", "31.12.2026", "2026-12-31"),
    ("date", "2026-12-31", "2026-12-31"),
    ("date", "завтра", "2026-12-01"),
    ("date", "friday", "2026-12-04"),
    ("datetime", "03.12.2026 15:00", "2026-12-03T12:00:00+00:00"),
    ("datetime", "tomorrow 9:00", "2026-12-01T06:00:00+00:00"),
    ("period", "с 14.12 по 27.12.2026", {"from": "2026-12-14", "to": "2026-12-27"}),
    ("period", "2026-12-14 - 2026-12-27", {"from": "2026-12-14", "to": "2026-12-27"}),
    ("yes_no", "да", True),
    ("yes_no", "No", False),
    ("email", "Olga@Example.com", "olga@example.com"),
    ("phone", "8 (916) 123-45-67", "+79161234567"),
    ("link", "https://example.com/a", "https://example.com/a"),
    ("person", "@Olga", "olga"),
])
def test_values_are_read_from_chat_text(ctx, kind, text, value):
    assert read_value(ctx, field(kind), text) == value


@pytest.mark.parametrize("text, value", [("2", "services"), ("materials", "materials"), ("Материалы", "materials"),
                                         ("SERVICES", "services")])
def test_a_choice_by_number_id_or_label_in_either_language(ctx, text, value):
    assert read_value(ctx, CHOICE, text) == value


@pytest.mark.parametrize("kind, text, msgid_start", [
    ("money", "a lot", "I can't read “%(text)s” as an amount"),
    ("money", "100 bananas", "I can't read “%(text)s” as an amount"),
    ("number", "twelve", "“%(text)s” is not a number"),
    ("date", "32.13.2026", "I can't read “%(text)s” as a date"),
    ("period", "14.12.2026", "Give the period as two dates"),
    ("period", "27.12.2026 - 14.12.2026", "The period ends before it starts"),
    ("yes_no", "maybe", "Answer yes or no"),
    ("email", "olga at example", "“%(text)s” doesn't look like an e-mail address"),
    ("phone", "call me", "“%(text)s” doesn't look like a phone number"),
    ("file", "here it is", "Send the file itself"),
])
def test_unreadable_values_are_refused_with_an_example(ctx, kind, text, msgid_start):
    with pytest.raises(BadInput) as refused:
        read_value(ctx, field(kind), text)
    assert refused.value.msgid.startswith(msgid_start)


def test_limits_and_refusals_speak_the_readers_language(ctx):
    with pytest.raises(BadInput) as below:
        read_value(ctx, field("money", min=Decimal(100), currencies=("RUB",)), "50 RUB")
    assert refusal_text(below.value, "ru") == "Сумма: значение должно быть не меньше 100."
    with pytest.raises(BadInput) as currency:
        read_value(ctx, field("money", currencies=("RUB",)), "50 USD")
    assert refusal_text(currency.value, "en") == "Amount takes RUB, not USD."
    with pytest.raises(BadInput) as choice:
        read_value(ctx, CHOICE, "food")
    assert refusal_text(choice.value, "ru") == "«food» — нет такого варианта. Варианты: 1 — Материалы, 2 — Услуги. " \
                                               "Напишите номер или название."
    with pytest.raises(BadInput):
        read_value(ctx, field("text", pattern=r"\d{10}"), "123")
    with pytest.raises(BadInput):
        read_value(ctx, field("person"), "@olga @ivan")  # one person only


def test_a_table_is_read_row_by_row_and_a_bad_cell_names_its_row_and_column(ctx):
    rows = read_value(ctx, TABLE, "Order resin | @maria | 10.12.2026\nCall the clinic")
    assert rows == [{"what": "Order resin", "who": "maria", "due": "2026-12-10"}, {"what": "Call the clinic"}]
    with pytest.raises(BadInput) as bad:
        read_value(ctx, TABLE, "Order resin | @maria | someday")
    assert refusal_text(bad.value, "en").startswith("Row 1, By when: I can't read “someday” as a date.")
    assert refusal_text(bad.value, "ru").startswith("Строка 1, Срок: ")
    with pytest.raises(BadInput) as unknown:
        read_value(ctx, TABLE, "Order | @nobody")
    assert "nobody" in refusal_text(unknown.value, "en")


def test_a_task_reference_must_be_a_task_the_person_sees(ctx):
    with pytest.raises(NotFound):
        read_value(ctx, field("task"), "#999")


def test_multi_choice_and_several_people(ctx):
    multi = Field("m", "multi_choice", L, 1, options=CHOICE.options, max=Decimal(2))
    assert read_value(ctx, multi, "1, Услуги, 1") == ["materials", "services"]
    people = Field("p", "person", L, 1, multiple=True)
    assert read_value(ctx, people, "@pavel, @maria") == ["pavel", "maria"]


def test_app_fixture_is_the_demo_org(app):
    with app.store.session() as session:
        assert Context(session, 1, START).tz == "UTC"
    assert make_app  # the same composition root as every other test


def test_a_request_title_names_its_author(app, clock):
    from core.domain.models import Task
    from tests.forms_desk import Desk

    desk = Desk(app, clock)
    task_id = desk.start("pavel", "overtime", date="2026-11-29", hours=2, project="X", reason="Y")
    with app.store.session() as session:
        title = session.get(Task, task_id).title
    assert title.startswith("Overtime: Pavel Smirnov, ")


@pytest.mark.parametrize("kind, text, en, ru", [
    ("money", "99999999999999999999999999", "Amount is too large: at most 15 digits.",
     "Сумма: слишком большое число, цифр допустимо не больше 15."),
    ("money", "999999999999999 млн", "Amount is too large: at most 15 digits.", None),
    ("number", "-1234567890123456", "Amount is too large: at most 15 digits.", None),
    ("money", "1.0000001 RUB", "Amount takes at most 6 digits after the decimal point.",
     "Сумма: знаков после запятой допустимо не больше 6."),
    ("number", "0." + "1" * 40, "Amount takes at most 6 digits after the decimal point.", None),
], ids=["26 digits", "a million times", "negative", "7 places", "40 places"])
def test_numbers_are_bounded_where_they_are_read(ctx, kind, text, en, ru):
    """Babel cannot format 26 digits: such an amount used to crash every summary and card showing it."""
    with pytest.raises(BadInput) as refused:
        read_value(ctx, field(kind), text)
    assert refusal_text(refused.value, "en") == en
    assert ru is None or refusal_text(refused.value, "ru") == ru
    with pytest.raises(BadInput):
        check_value(ctx, field(kind), {"amount": text} if kind == "money" else text)  # a modal, a bot, JSON


def test_every_accepted_digit_is_shown(ctx):
    assert read_value(ctx, field("money"), "999 999 999 999 999,999999 RUB") == {
        "amount": "999999999999999.999999", "currency": "RUB"}
    assert show(ctx.session, field("number"), 0.000001, "en", "UTC") == "0.000001"  # babel would show 0
    assert show(ctx.session, field("money"), {"amount": "1500.5", "currency": "RUB"}, "ru", "UTC") == "1\xa0500,5 RUB"


@pytest.mark.parametrize("kind, value, shown", [
    ("money", {"amount": "9" * 40, "currency": "RUB"}, "9" * 40 + " RUB"),
    ("money", "150000", "150000"),
    ("date", "31.12.2026", "31.12.2026"),
    ("datetime", "tomorrow", "tomorrow"),
    ("period", {"from": "2026-12-01"}, "2026-12-01"),
    ("number", "lots", "lots"),
    ("person", {"handle": "olga"}, "@olga"),
    ("file", [{"file_id": 5}], "5"),
    ("table", [["not", "a", "row"]], "not, a, row"),
])
def test_a_stored_value_that_cannot_be_read_is_shown_as_plain_text(ctx, kind, value, shown):
    """A draft or a request from an older build (or edited by hand) must not take its card down."""
    kept = field(kind, columns=TABLE.columns) if kind == "table" else field(kind)
    assert show(ctx.session, kept, value, "en", "UTC") == shown


@pytest.mark.parametrize("kind, value, error", [
    ("choice", "²", BadInput),  # a digit to str.isdigit, not to int()
    ("choice", "1" * 5000, BadInput),  # more digits than int() reads
    ("task", "#²", NotFound),
    ("datetime", "0001-01-01T00:00+01:00", BadInput),  # before the first UTC moment
    ("datetime", "9999-12-31T23:59-01:00", BadInput),  # after the last one
])
def test_odd_text_is_refused_not_raised(ctx, kind, value, error):
    with pytest.raises(error):
        read_value(ctx, CHOICE if kind == "choice" else field(kind), value)


def test_text_from_a_modal_or_a_bot_is_made_valid_unicode(ctx):
    """Modal and bot values reach the readers without passing through Chat.handle."""
    assert check_value(ctx, field("text"), "half \ud83d pair\x00") == "half \ufffd pair"
    assert check_value(ctx, field("text"), "joined \ud83d\ude00") == "joined 😀"
    assert check_value(ctx, TABLE, [{"what": "Order \udc00 resin"}]) == [{"what": "Order \ufffd resin"}]


def test_a_file_from_a_modal_or_a_bot_keeps_the_types_its_attachment_row_stores(ctx):
    """Stored as given, file_id 5 failed the submission (5[:300]) and a size of "big" the database."""
    sent = [{"file_id": 5, "name": 7, "size": "big", "attachment_id": True, "extra": "x"}]
    assert check_value(ctx, field("file"), sent) == [{"file_id": "5", "name": "7"}]
    sent = [{"file_id": "f1", "platform": "slack", "size": 1024}]
    assert check_value(ctx, field("file"), sent) == [{"file_id": "f1", "platform": "slack", "size": 1024}]
