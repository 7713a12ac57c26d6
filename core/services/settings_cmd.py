"""/settings: a person's own time zone and language."""
from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from core.domain.clock import is_valid_zone
from core.domain.errors import BadInput
from core.presentation.i18n import LANGUAGES, N_
from core.presentation.views import Reader
from core.services.people import Defaults

USAGE = N_("Try: /settings tz Europe/Moscow, or /settings lang ru (ru or en).")
BAD_ZONE = N_("I don't know the time zone \"%(zone)s\". Use a name like Europe/Moscow or America/New_York.")


def apply_settings(session: Session, reader: Reader, args: str, defaults: Defaults) -> Reader:
    """Apply `tz <zone>` and/or `lang <code>`; no args shows the current ones."""
    words = args.split()
    if len(words) % 2:
        raise BadInput(USAGE)
    person, lang, tz = reader.person, reader.lang, reader.tz
    for key, value in zip(words[::2], words[1::2]):
        key = key.lower()
        if key in ("tz", "timezone", "zone"):
            if not is_valid_zone(value):
                raise BadInput(BAD_ZONE, zone=value[:64])
            person.timezone = tz = value
        elif key in ("lang", "language") and value.lower() in LANGUAGES:
            person.language = lang = value.lower()
        else:
            raise BadInput(USAGE)
    session.add(person)
    return replace(reader, lang=lang, tz=tz)
