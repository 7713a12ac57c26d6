"""Every user-visible string has a Russian translation, with the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.presentation.i18n import LOCALE_DIR, gettext_for, normalize

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"N_": None, "_": None, "gettext": None, "Refusal": None, "BadInput": None, "NotFound": None,
            "Forbidden": None, "UnknownPerson": None}
METHODS = [("core/**.py", "python"), ("adapters/**.py", "python"), ("templates/**.j2", "jinja2")]
OPTIONS = {"templates/**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def source_msgids() -> set[str]:
    """What `make i18n` would extract: every marked string in code and templates."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, options_map=OPTIONS, keywords=KEYWORDS,
    ):
        found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


@pytest.fixture(scope="module")
def russian():
    with open(LOCALE_DIR / "ru" / "LC_MESSAGES" / "teamflow.po", "rb") as fh:
        return {m.id: m.string for m in read_po(fh, locale="ru") if m.id}


def test_every_string_in_code_and_templates_is_translated(russian):
    missing = sorted(m for m in source_msgids() if not russian.get(m))
    assert missing == [], "run `make i18n` and translate these in core/locale/ru/LC_MESSAGES/teamflow.po"


def test_translations_keep_every_placeholder(russian):
    broken = {m: t for m, t in russian.items() if t and sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(t))}
    assert broken == {}


def test_the_extraction_finds_refusals_buttons_and_template_words():
    ids = source_msgids()
    assert "Only the creator, the assignee or an admin can %(what)s task #%(id)s." in ids
    assert "Take it" in ids and "Done recently" in ids


def test_russian_is_used_for_russian_readers():
    assert gettext_for("ru")("Take it") != "Take it"
    assert gettext_for("en")("Take it") == "Take it"
    assert gettext_for("de")("Take it") == "Take it"  # unknown languages fall back to English


@pytest.mark.parametrize("raw, lang", [("ru", "ru"), ("ru-RU", "ru"), ("EN_us", "en"), ("", "en"), (None, "en"),
                                       ("de", "en")])
def test_language_codes_are_normalised(raw, lang):
    assert normalize(raw) == lang


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_moments_are_written_as_babel_writes_them(lang):
    """views.when writes CLDR's "d MMM, HH:mm" itself (cached month names): babel's own answer, each month."""
    from datetime import datetime, timezone

    from babel.dates import format_datetime

    from core.domain.clock import zone
    from core.domain.models import Person
    from core.presentation.views import Reader, when

    reader = Reader(Person(id=1, handle="x", name="X"), lang, "Asia/Kolkata")
    for month in range(1, 13):
        moment = datetime(2026, month, 28, 21, 5, tzinfo=timezone.utc)  # the next day in Kolkata
        assert when(moment, reader) == format_datetime(moment, "d MMM, HH:mm", tzinfo=zone("Asia/Kolkata"),
                                                       locale=lang)
