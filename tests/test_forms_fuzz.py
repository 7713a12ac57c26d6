"""Every field type's reader takes any text or JSON and answers with a value or a refusal; every
value a reader accepted (and any value a stored row may hold) renders as text (hypothesis)."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.app import DEMO_ORG
from core.config.org import load_org, sync_org
from core.domain.errors import Refusal
from core.domain.models import Person
from core.forms import Context, check_value, read_value, show
from core.forms.request_cards import shown_fields
from core.forms.schema import Field, Label, Option
from core.forms.values import READERS
from core.infra.store import Store, create_all
from core.presentation.render import Templates
from core.services import tasks
from tests.conftest import START

L = Label.of({"en": "Amount", "ru": "Сумма"})
OPTIONS = (Option("materials", Label.of({"en": "Materials", "ru": "Материалы"})), Option("other", Label.of("Other")))
COLUMNS = (Field("what", "text", Label.of("What"), 1, required=True), Field("n", "number", Label.of("N"), 1),
           Field("sum", "money", L, 1), Field("due", "date", Label.of("Due"), 1),
           Field("who", "person", Label.of("Who"), 1), Field("pick", "choice", Label.of("Pick"), 1, options=OPTIONS))
# One field of every type a form may declare (the first test fails when a type is added and not listed).
FIELDS = {f.type: f for f in (
    Field("text", "text", L, 1), Field("long_text", "long_text", L, 1), Field("link", "link", L, 1),
    Field("email", "email", L, 1), Field("phone", "phone", L, 1), Field("number", "number", L, 1),
    Field("money", "money", L, 1, min=Decimal(1), currencies=("RUB", "USD")), Field("date", "date", L, 1),
    Field("datetime", "datetime", L, 1), Field("period", "period", L, 1), Field("yes_no", "yes_no", L, 1),
    Field("choice", "choice", L, 1, options=OPTIONS), Field("multi_choice", "multi_choice", L, 1, options=OPTIONS),
    Field("person", "person", L, 1, multiple=True), Field("file", "file", L, 1), Field("task", "task", L, 1),
    Field("table", "table", L, 1, columns=COLUMNS),
)}
KINDS = st.sampled_from(sorted(FIELDS))
ODD = ["\ud83d", "\ude00", "\x00", "\u200f", "\u202e", "\u200b", "😀", "²", "١", "\u00a0", "\ufeff", "|", "\n"]
WORDS = ["1", "0", "-1", "99999999999999999999999999", "1.0000001", "1,5", "150 000", "$", "€", "RUB", "млн", "k",
         "31.12.2026", "2026-12-31", "0001-01-01T00:00+01:00", "29.02", "15:00", "tomorrow", "завтра", "-", "..",
         "по", "@olga", "@nobody", "#1", "#999", "https://x.io", "a@b.co", "+7 916 123-45-67", "yes", "нет",
         "materials", "2", ",", "|", *ODD]
TEXT = st.one_of(
    st.text(st.one_of(st.characters(exclude_categories=()), st.sampled_from(ODD)), max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-10**40, 10**40), st.floats(), TEXT)
KEYS = st.one_of(st.sampled_from(["amount", "currency", "from", "to", "file_id", "name", "size", "what", "n", "sum",
                                  "due", "who", "pick"]), st.text(max_size=6))
JSON = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                    max_leaves=8)
LONG = "ж" * 10_000
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def ctx():
    """The demo org in an in-memory database, with task #1 by olga: built once for the module."""
    store = Store.from_url("sqlite://")
    create_all(store.engine)
    with store.session() as session:
        sync_org(session, load_org(DEMO_ORG), now=START)
    with Session(store.engine, expire_on_commit=False) as session:
        olga = session.exec(select(Person).where(Person.handle == "olga")).one()
        tasks.create_task(session, olga.id, "Order resin", now=START)
        session.commit()
        yield Context(session, olga.id, START, "Europe/Moscow")
    store.engine.dispose()


@pytest.fixture(scope="module")
def templates():
    return Templates()


def rendered(ctx: Context, templates: Templates, field: Field, value) -> None:
    """The value as every renderer shows it: one value, the filled fields, the summary to confirm."""
    for lang in ("en", "ru"):
        assert isinstance(show(ctx.session, field, value, lang, ctx.tz), str)
        rows = shown_fields(ctx.session, [field], {field.id: value}, lang, ctx.tz)
        assert all(isinstance(row["value"], str) for row in rows)
        for platform in ("plain", "telegram"):
            text = templates.render("form_summary", lang, platform, form="F", fields=rows, task_id=None, then=None)
            assert isinstance(text, str)


def stored(value) -> None:
    """What a reader accepts goes into a JSON column as it is: valid UTF-8, no NaN, no NUL."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    assert "\\u0000" not in text
    text.encode("utf-8")


@FAST
@given(kind=KINDS, text=TEXT)
@example(kind="money", text="99999999999999999999999999")
@example(kind="number", text="99999999999999999999999999")
@example(kind="number", text="0." + "1" * 40)
@example(kind="money", text="999999999999999 млн")
@example(kind="text", text="half \ud83d pair")
@example(kind="person", text="@olga\ud83d")
@example(kind="table", text="Order \ud83d | 1 | 5 RUB | 31.12.2026 | @olga | 1")
@example(kind="text", text="nul\x00byte")
@example(kind="long_text", text="\u200fשלום\u202e RTL")
@example(kind="long_text", text=LONG)
@example(kind="money", text=LONG)
@example(kind="choice", text="²")
@example(kind="choice", text="1" * 5000)
@example(kind="task", text="#²")
@example(kind="datetime", text="0001-01-01T00:00+01:00")
@example(kind="datetime", text="9999-12-31T23:59-01:00")
def test_any_text_is_read_or_refused_and_what_is_read_renders(ctx, templates, kind, text):
    assert set(FIELDS) == set(READERS)  # a field type added to READERS is fuzzed too
    field = FIELDS[kind]
    try:
        value = read_value(ctx, field, text)
    except Refusal as refusal:
        assert refusal.msgid
        return
    stored(value)
    rendered(ctx, templates, field, value)


@FAST
@given(kind=KINDS, value=JSON)
@example(kind="money", value={"amount": "9" * 26, "currency": "RUB"})
@example(kind="money", value={"amount": float("inf")})
@example(kind="number", value=10**30)
@example(kind="number", value=float("nan"))
@example(kind="period", value={"from": "2026-12-01"})
@example(kind="file", value=[{"file_id": 5, "name": ["x"]}])
@example(kind="table", value=[{"what": "x\ud83d", "sum": {"amount": "1e5"}}, "y | 1e400"])
@example(kind="person", value=["olga", {"handle": "ivan"}, None])
@example(kind="yes_no", value={"x": "\x00"})
def test_any_json_is_checked_or_refused_and_what_is_kept_renders(ctx, templates, kind, value):
    field = FIELDS[kind]
    try:
        kept = check_value(ctx, field, value)
    except Refusal as refusal:
        assert refusal.msgid
        return
    stored(kept)
    rendered(ctx, templates, field, kept)


@FAST
@given(kind=KINDS, value=JSON)
@example(kind="money", value={"amount": "9" * 40, "currency": "RUB"})
@example(kind="date", value="31.12.2026")
@example(kind="period", value={"from": "2026-12-01"})
@example(kind="person", value="nobody")
@example(kind="table", value=[["not", "a", "row"]])
def test_whatever_a_stored_row_holds_renders_as_text(ctx, templates, kind, value):
    """A draft or request from an older build, or edited by hand, never takes a card down."""
    rendered(ctx, templates, FIELDS[kind], value)
