"""Any text gives a task or a clear refusal, never an exception (hypothesis)."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.chat.parsing import parse_task_args
from core.chat.timeparse import parse_when
from core.domain.errors import Refusal
from core.services.people import MENTION

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)
WORDS = st.sampled_from([
    "Prepare", "the", "3D", "model", "@olga", "@pavel", "@nobody", "by", "due", "до", "tomorrow", "15:00",
    "завтра", "в", "через", "2", "часа", "in", "hours", "friday", "пятницу", "#42", "@", "/task", "\n",
    "next", "monday", "🙂", "by by", "до до", "@@olga", "", " ", "9:99", "31.02", "-1",
])
TEXT = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=25).map(" ".join))


def read_time(when: str) -> datetime:
    return parse_when(when, now=NOW, tz="Europe/Moscow")


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_the_task_parser_gives_a_task_or_a_refusal(text):
    try:
        args = parse_task_args(text, read_time)
    except Refusal as refusal:
        assert refusal.msgid
        return
    assert MENTION.search(args.title) is None  # every @mention was taken out of the title
    assert args.due is None or args.due > NOW
    assert all(m == m.lower() for m in args.mentions)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_the_whole_chat_answers_anything_without_raising(app, text):
    """Through the real chat: a message comes back, whatever was typed."""
    from sqlmodel import select

    from core.domain.models import Person

    with app.store.session() as session:
        olga = session.exec(select(Person).where(Person.handle == "olga")).one()
    for typed in (text, "/task " + text, "/due 1 " + text, "/snooze 1 " + text, "/settings " + text):
        message = app.chat.handle(olga.id, typed)
        assert message.text.strip()
