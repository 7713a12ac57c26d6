"""Languages: gettext catalogs (Babel .po files) for Russian, English as the source.

The .po files are read directly (compiled in memory with Babel), so there is
no build step and no compiled catalog to keep in step with its source.
"""
from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "teamflow"


def N_(msgid: str) -> str:
    """Mark a string for translation without translating it now."""
    return msgid


def normalize(lang: str | None, fallback: str = DEFAULT_LANGUAGE) -> str:
    """'ru-RU', 'ru_RU', 'RU' -> 'ru'; anything unknown -> the fallback."""
    code = (lang or "").replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else fallback


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for a language; English is the msgid itself."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT_LANGUAGE or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext_for(lang: str):
    """A `_` function for one language: `_(msgid, **params)`."""
    tr = translations(normalize(lang))

    def _(msgid: str, **params: object) -> str:
        text = tr.gettext(msgid)
        return text % params if params else text

    return _


def ngettext_for(lang: str):
    """An `ngettext` for one language (Russian has three plural forms)."""
    return translations(normalize(lang)).ngettext
